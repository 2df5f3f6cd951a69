"""Neural language models (`seqtool train-lm`, `seqtool sample`): options, data, the model,
training, the stored format, the numpy sampling engine and generation.

Importing this package costs nothing: torch loads with the modules that need it.
"""

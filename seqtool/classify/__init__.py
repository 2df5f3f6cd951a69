"""Text classification with recurrent networks: data formats, model, training,
prediction, metrics and cross-validation (`seqtool classify`)."""

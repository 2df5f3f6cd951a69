"""Neural building blocks shared by the models: cells, output layers, regularizers."""

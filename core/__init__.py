"""Everything between a sensor (or a file) and a prediction: layouts, readers, recordings, sources, the pipeline, training."""

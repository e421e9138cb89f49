"""Reproduce EnlightenGAN's unpaired training, export the generator to ONNX and evaluate it with NIQE."""

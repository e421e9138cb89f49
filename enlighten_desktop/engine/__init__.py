"""The inference engine: numpy, ONNX Runtime and image libraries only (no Qt, no torch)."""

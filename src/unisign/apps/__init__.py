"""What a user runs: the command line, the demo, live streaming, model loading for inference, pictures of poses."""

"""信息共享 models."""

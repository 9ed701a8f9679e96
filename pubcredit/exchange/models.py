"""数据交换 models."""

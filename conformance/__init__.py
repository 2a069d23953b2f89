"""The YAML-scripted conformance and scenario runner."""

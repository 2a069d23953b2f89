"""Message stores: sequence numbers and sent messages, behind one protocol."""

"""The sans-IO core: tags, codec, messages, dictionary, validation and the session machine.

Standard library only; no sockets, no trio, no clock reads.
"""

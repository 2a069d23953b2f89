"""The bundled LP simulator: an acceptor built on trifix's public API."""

"""The local stack: moto in server mode, an API Gateway front and a stream pump, on a laptop."""

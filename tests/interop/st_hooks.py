"""schemathesis hooks: lets it send tus PATCH bodies (application/offset+octet-stream)."""
import schemathesis


@schemathesis.serializer("application/offset+octet-stream")
def _octets(ctx, value):
    if isinstance(value, bytes):
        return value
    return str(value).encode()

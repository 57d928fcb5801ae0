"""The HTTP edge: client addresses, allowed origins, rate limits, staff sign-in, answering busy."""

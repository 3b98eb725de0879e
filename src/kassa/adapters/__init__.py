"""The only code that does I/O: stores, keys, vault, processor, HTTP senders."""

"""Everything that touches discord.py except the cogs: the client, the composition root
(wiring.py), the MessagePoster over discord.py, views, replies and error messages."""

"""Application services: what paperbot does, over the core's ports (bot.core.ports); the
Discord layer, the CLI and the scheduler call into them. None of them imports discord."""

"""The built-in channel adapters (``web``, ``app``, ``wechat_mini_program``,
``wechat_h5``, ``live``, ``offline``) and channel profiles (``wechat_h5``), one
plugin module each, registered like a third party's. docs/channels.md shows
every payload."""

"""Traveller screens: a page served on loopback, live state pushed by server-sent events.

`view.KioskView` is what the lane shows; `server.KioskServer.show(view)` pushes it to the page;
traveller inputs (language, more time, assistance) come back through a callback.
"""

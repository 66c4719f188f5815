"""Traveller screens: one page served on 127.0.0.1 only, live state pushed by server-sent events.

    view.py        Screen, Instruction, KioskView: what the lane wants shown (no referral reason,
                   ever: SEE_OFFICER looks the same for a mismatch and for an alert-list hit)
    server.py      KioskServer(on_input, port=...).start(); .show(view); .stop()
    inputs.py      TravellerInput(kind=LANGUAGE | MORE_TIME | ASSISTANCE) handed to on_input
                   (called from a server thread: the lane should only queue it)
    languages.py   traveller's choice > document nationality (language_hint) > default; reset on
                   WELCOME/CLOSED and after kiosk.idle_language_reset_s at the welcome screen
    http_handler   loopback peer + Host + Origin checks, small JSON bodies, JSON refusals
    channel.py     newest-state fan-out to the event streams (bounded clients, no queues)
    assets.py      the page, script, style and translations read once into memory
    demo.py        scripted transactions + DemoLane (for `gatectl kiosk demo` and browser tests)
    static/        index.html (inline SVG pictograms), app.js, style.css, i18n/<lang>.json

The page renders only what it is pushed; when the stream goes silent it covers the screen with
"lane not available" rather than leave a stale "please go through" in view.
"""

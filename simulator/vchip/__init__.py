"""Virtual ICAO eMRTD chip: a card-side applet, an in-process transceiver and a vpcd client."""

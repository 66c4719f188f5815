"""PACE v2 (ICAO 9303-11 4.4), terminal side: `info` reads the offers in EF.CardAccess and picks
one, `protocol` runs the exchange (generic mapping inline, `im` integrated mapping, `cam` chip
authentication mapping), `groups` holds the ECDH and DH groups behind one interface."""

"""Anti-cloning checks, each with its APDUs and its maths together: `aa` active authentication,
`ca` chip authentication v1, `card_security` the PACE-CAM check against EF.CardSecurity's key;
`result` says which check ran, whether it passed and why not."""

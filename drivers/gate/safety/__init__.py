"""Door safety controller: the only owner of the door I/O, in its own process (`gate-safety`).

    protocol.py   line-delimited JSON over a Unix socket: versioned, bounded, checked
    interlock.py  the rules it enforces whatever the appliance says (pure)
    controller.py the process: scan loop over the pins, the appliance socket, the sim control socket
    client.py     the appliance side: a gate backend (`safety:///run/border-gate/safety.sock`)
    simctl.py     testers: drive the simulated inputs and read the outputs through the control socket

Only gpiozero and the standard library are used here (and the rest of drivers.gate).
"""

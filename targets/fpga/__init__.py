"""snncc FPGA target: integer golden model, event-driven neurocore RTL, cycle simulator."""

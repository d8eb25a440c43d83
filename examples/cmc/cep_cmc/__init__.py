"""The conseillers mobilité carrière: the CEP of public agents, as an out-of-tree operator."""

"""一标三实: the register of houses, households, people and the visits they need."""

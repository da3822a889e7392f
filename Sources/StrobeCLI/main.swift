import Strobe
print("strobe \(strobeVersion)")

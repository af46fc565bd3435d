print("regnet")

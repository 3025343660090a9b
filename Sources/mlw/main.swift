print("mlw")

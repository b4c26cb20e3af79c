print("fuzzer placeholder")

import StrobeTensor
print(BLAS.prepare())

// The generated matmuls the benchmark times against OpenBLAS sgemm:
// C[M, N] = A[M, K] B[K, N] with M and K chosen at run time and N fixed, as
// in the models' linear layers (whose output width is a model constant).
// One function per N the benchmark uses; convseqc compiles them through the
// same CPU pipeline as the models.
module @matmul {
  func.func @matmul_n256(%a: tensor<?x?xf32> {convseq.io = "a"},
                        %b: tensor<?x256xf32> {convseq.io = "b"})
      -> (tensor<?x256xf32> {convseq.io = "c"}) {
    %c0 = arith.constant 0 : index
    %zero = arith.constant 0.0 : f32
    %m = tensor.dim %a, %c0 : tensor<?x?xf32>
    %empty = tensor.empty(%m) : tensor<?x256xf32>
    %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x256xf32>)
        -> tensor<?x256xf32>
    %c = linalg.matmul ins(%a, %b : tensor<?x?xf32>, tensor<?x256xf32>)
                       outs(%init : tensor<?x256xf32>) -> tensor<?x256xf32>
    return %c : tensor<?x256xf32>
  }
  func.func @matmul_n512(%a: tensor<?x?xf32> {convseq.io = "a"},
                        %b: tensor<?x512xf32> {convseq.io = "b"})
      -> (tensor<?x512xf32> {convseq.io = "c"}) {
    %c0 = arith.constant 0 : index
    %zero = arith.constant 0.0 : f32
    %m = tensor.dim %a, %c0 : tensor<?x?xf32>
    %empty = tensor.empty(%m) : tensor<?x512xf32>
    %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x512xf32>)
        -> tensor<?x512xf32>
    %c = linalg.matmul ins(%a, %b : tensor<?x?xf32>, tensor<?x512xf32>)
                       outs(%init : tensor<?x512xf32>) -> tensor<?x512xf32>
    return %c : tensor<?x512xf32>
  }
  func.func @matmul_n1024(%a: tensor<?x?xf32> {convseq.io = "a"},
                        %b: tensor<?x1024xf32> {convseq.io = "b"})
      -> (tensor<?x1024xf32> {convseq.io = "c"}) {
    %c0 = arith.constant 0 : index
    %zero = arith.constant 0.0 : f32
    %m = tensor.dim %a, %c0 : tensor<?x?xf32>
    %empty = tensor.empty(%m) : tensor<?x1024xf32>
    %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x1024xf32>)
        -> tensor<?x1024xf32>
    %c = linalg.matmul ins(%a, %b : tensor<?x?xf32>, tensor<?x1024xf32>)
                       outs(%init : tensor<?x1024xf32>) -> tensor<?x1024xf32>
    return %c : tensor<?x1024xf32>
  }
  func.func @matmul_n2048(%a: tensor<?x?xf32> {convseq.io = "a"},
                        %b: tensor<?x2048xf32> {convseq.io = "b"})
      -> (tensor<?x2048xf32> {convseq.io = "c"}) {
    %c0 = arith.constant 0 : index
    %zero = arith.constant 0.0 : f32
    %m = tensor.dim %a, %c0 : tensor<?x?xf32>
    %empty = tensor.empty(%m) : tensor<?x2048xf32>
    %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x2048xf32>)
        -> tensor<?x2048xf32>
    %c = linalg.matmul ins(%a, %b : tensor<?x?xf32>, tensor<?x2048xf32>)
                       outs(%init : tensor<?x2048xf32>) -> tensor<?x2048xf32>
    return %c : tensor<?x2048xf32>
  }
  func.func @matmul_n4096(%a: tensor<?x?xf32> {convseq.io = "a"},
                        %b: tensor<?x4096xf32> {convseq.io = "b"})
      -> (tensor<?x4096xf32> {convseq.io = "c"}) {
    %c0 = arith.constant 0 : index
    %zero = arith.constant 0.0 : f32
    %m = tensor.dim %a, %c0 : tensor<?x?xf32>
    %empty = tensor.empty(%m) : tensor<?x4096xf32>
    %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x4096xf32>)
        -> tensor<?x4096xf32>
    %c = linalg.matmul ins(%a, %b : tensor<?x?xf32>, tensor<?x4096xf32>)
                       outs(%init : tensor<?x4096xf32>) -> tensor<?x4096xf32>
    return %c : tensor<?x4096xf32>
  }
  func.func @matmul_n8000(%a: tensor<?x?xf32> {convseq.io = "a"},
                        %b: tensor<?x8000xf32> {convseq.io = "b"})
      -> (tensor<?x8000xf32> {convseq.io = "c"}) {
    %c0 = arith.constant 0 : index
    %zero = arith.constant 0.0 : f32
    %m = tensor.dim %a, %c0 : tensor<?x?xf32>
    %empty = tensor.empty(%m) : tensor<?x8000xf32>
    %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x8000xf32>)
        -> tensor<?x8000xf32>
    %c = linalg.matmul ins(%a, %b : tensor<?x?xf32>, tensor<?x8000xf32>)
                       outs(%init : tensor<?x8000xf32>) -> tensor<?x8000xf32>
    return %c : tensor<?x8000xf32>
  }
}

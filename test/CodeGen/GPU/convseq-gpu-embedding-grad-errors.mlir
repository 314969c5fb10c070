// RUN: convseq-opt %s -split-input-file -verify-diagnostics --convseq-gpu-embedding-grad

// One id without a position dimension: an error, not a crash.
func.func @scalar_id(%ids: tensor<i32>, %dy: tensor<8xf32>) -> tensor<10x8xf32> {
  // expected-error @+1 {{the GPU lowering needs at least one id dimension}}
  %t = convseq.embedding_grad %ids, %dy : (tensor<i32>, tensor<8xf32>) -> tensor<10x8xf32>
  return %t : tensor<10x8xf32>
}

// -----

func.func @dynamic_width(%ids: tensor<4xi32>, %dy: tensor<4x?xf32>) -> tensor<10x?xf32> {
  // expected-error @+1 {{the GPU lowering needs a static table shape, not 'tensor<10x?xf32>'}}
  %t = convseq.embedding_grad %ids, %dy : (tensor<4xi32>, tensor<4x?xf32>) -> tensor<10x?xf32>
  return %t : tensor<10x?xf32>
}

// Every differentiable op, alone, in f64 with small static shapes. The
// build adds each function's VJP (convseq-generate-vjp) and compiles the
// module; GradientCheckTest.cpp compares each VJP with central finite
// differences of the function. Integer inputs named `ids` get values in
// [0, 6) (0 is padding, and 5 is out of range for a 5-row table); i64
// scalars are RNG keys.
module @gradient_checks {
  func.func @linear(%x: tensor<2x3x4xf64> {convseq.io = "x"}, %w: tensor<4x5xf64> {convseq.io = "w"})
      -> (tensor<2x3x5xf64> {convseq.io = "y"}) {
    %y = convseq.linear %x, %w : (tensor<2x3x4xf64>, tensor<4x5xf64>) -> tensor<2x3x5xf64>
    return %y : tensor<2x3x5xf64>
  }

  func.func @linear_transposed_scaled(%x: tensor<3x4xf64> {convseq.io = "x"}, %w: tensor<5x4xf64> {convseq.io = "w"})
      -> (tensor<3x5xf64> {convseq.io = "y"}) {
    %y = convseq.linear %x, %w {transpose_weight, scale = 0.5 : f64} : (tensor<3x4xf64>, tensor<5x4xf64>) -> tensor<3x5xf64>
    return %y : tensor<3x5xf64>
  }

  func.func @glu(%v: tensor<2x3x4xf64> {convseq.io = "v"}, %g: tensor<2x3x4xf64> {convseq.io = "g"})
      -> (tensor<2x3x4xf64> {convseq.io = "y"}) {
    %y = convseq.glu %v, %g : tensor<2x3x4xf64>
    return %y : tensor<2x3x4xf64>
  }

  func.func @relu(%x: tensor<2x3x4xf64> {convseq.io = "x"}) -> (tensor<2x3x4xf64> {convseq.io = "y"}) {
    %y = convseq.relu %x : tensor<2x3x4xf64>
    return %y : tensor<2x3x4xf64>
  }

  func.func @gelu(%x: tensor<2x3x4xf64> {convseq.io = "x"}) -> (tensor<2x3x4xf64> {convseq.io = "y"}) {
    %y = convseq.gelu %x : tensor<2x3x4xf64>
    return %y : tensor<2x3x4xf64>
  }

  func.func @softmax(%x: tensor<3x5xf64> {convseq.io = "x"}) -> (tensor<3x5xf64> {convseq.io = "y"}) {
    %y = convseq.softmax %x : tensor<3x5xf64>
    return %y : tensor<3x5xf64>
  }

  func.func @lightweight_odd_masked(%a: tensor<2x6x4xf64> {convseq.io = "a"}, %w: tensor<2x3xf64> {convseq.io = "w"},
                                    %ids: tensor<2x6xi32> {convseq.io = "ids"}) -> (tensor<2x6x4xf64> {convseq.io = "y"}) {
    %m = convseq.padding_mask %ids : (tensor<2x6xi32>) -> tensor<2x6xi1>
    %y = convseq.lightweight_conv %a, %w mask %m {heads = 2 : i64, kernel_size = 3 : i64}
        : (tensor<2x6x4xf64>, tensor<2x3xf64>, tensor<2x6xi1>) -> tensor<2x6x4xf64>
    return %y : tensor<2x6x4xf64>
  }

  func.func @lightweight_even_causal(%a: tensor<2x5x4xf64> {convseq.io = "a"}, %w: tensor<2x4xf64> {convseq.io = "w"})
      -> (tensor<2x5x4xf64> {convseq.io = "y"}) {
    %y = convseq.lightweight_conv %a, %w {heads = 2 : i64, kernel_size = 4 : i64, causal}
        : (tensor<2x5x4xf64>, tensor<2x4xf64>) -> tensor<2x5x4xf64>
    return %y : tensor<2x5x4xf64>
  }

  func.func @lightweight_even_centred(%a: tensor<1x5x4xf64> {convseq.io = "a"}, %w: tensor<4x4xf64> {convseq.io = "w"})
      -> (tensor<1x5x4xf64> {convseq.io = "y"}) {
    %y = convseq.lightweight_conv %a, %w {heads = 4 : i64, kernel_size = 4 : i64}
        : (tensor<1x5x4xf64>, tensor<4x4xf64>) -> tensor<1x5x4xf64>
    return %y : tensor<1x5x4xf64>
  }

  func.func @dynamic_odd_masked(%a: tensor<2x5x4xf64> {convseq.io = "a"}, %k: tensor<2x5x2x3xf64> {convseq.io = "k"},
                                %ids: tensor<2x5xi32> {convseq.io = "ids"}) -> (tensor<2x5x4xf64> {convseq.io = "y"}) {
    %m = convseq.padding_mask %ids : (tensor<2x5xi32>) -> tensor<2x5xi1>
    %y = convseq.dynamic_conv %a, %k mask %m {heads = 2 : i64, kernel_size = 3 : i64}
        : (tensor<2x5x4xf64>, tensor<2x5x2x3xf64>, tensor<2x5xi1>) -> tensor<2x5x4xf64>
    return %y : tensor<2x5x4xf64>
  }

  func.func @dynamic_even_causal(%a: tensor<2x5x4xf64> {convseq.io = "a"}, %k: tensor<2x5x2x4xf64> {convseq.io = "k"})
      -> (tensor<2x5x4xf64> {convseq.io = "y"}) {
    %y = convseq.dynamic_conv %a, %k {heads = 2 : i64, kernel_size = 4 : i64, causal}
        : (tensor<2x5x4xf64>, tensor<2x5x2x4xf64>) -> tensor<2x5x4xf64>
    return %y : tensor<2x5x4xf64>
  }

  func.func @dilated_masked(%a: tensor<2x7x3xf64> {convseq.io = "a"}, %w: tensor<3x3xf64> {convseq.io = "w"},
                            %ids: tensor<2x7xi32> {convseq.io = "ids"}) -> (tensor<2x7x3xf64> {convseq.io = "y"}) {
    %m = convseq.padding_mask %ids : (tensor<2x7xi32>) -> tensor<2x7xi1>
    %y = convseq.dilated_conv %a, %w mask %m {kernel_size = 3 : i64, dilation = 2 : i64}
        : (tensor<2x7x3xf64>, tensor<3x3xf64>, tensor<2x7xi1>) -> tensor<2x7x3xf64>
    return %y : tensor<2x7x3xf64>
  }

  func.func @dilated_even_causal(%a: tensor<2x8x3xf64> {convseq.io = "a"}, %w: tensor<3x2xf64> {convseq.io = "w"})
      -> (tensor<2x8x3xf64> {convseq.io = "y"}) {
    %y = convseq.dilated_conv %a, %w {kernel_size = 2 : i64, dilation = 3 : i64, causal}
        : (tensor<2x8x3xf64>, tensor<3x2xf64>) -> tensor<2x8x3xf64>
    return %y : tensor<2x8x3xf64>
  }

  func.func @apply_mask(%x: tensor<2x5x3xf64> {convseq.io = "x"}, %ids: tensor<2x5xi32> {convseq.io = "ids"})
      -> (tensor<2x5x3xf64> {convseq.io = "y"}) {
    %m = convseq.padding_mask %ids : (tensor<2x5xi32>) -> tensor<2x5xi1>
    %y = convseq.apply_mask %x, %m : (tensor<2x5x3xf64>, tensor<2x5xi1>) -> tensor<2x5x3xf64>
    return %y : tensor<2x5x3xf64>
  }

  func.func @rms_norm(%x: tensor<2x3x4xf64> {convseq.io = "x"}, %g: tensor<4xf64> {convseq.io = "g"})
      -> (tensor<2x3x4xf64> {convseq.io = "y"}) {
    %y = convseq.rms_norm %x, %g {epsilon = 1.0e-06 : f64} : (tensor<2x3x4xf64>, tensor<4xf64>) -> tensor<2x3x4xf64>
    return %y : tensor<2x3x4xf64>
  }

  func.func @embedding(%ids: tensor<2x4xi32> {convseq.io = "ids"}, %table: tensor<5x3xf64> {convseq.io = "table"})
      -> (tensor<2x4x3xf64> {convseq.io = "y"}) {
    %y = convseq.embedding %ids, %table : (tensor<2x4xi32>, tensor<5x3xf64>) -> tensor<2x4x3xf64>
    return %y : tensor<2x4x3xf64>
  }

  func.func @add_positions(%x: tensor<2x3x4xf64> {convseq.io = "x"}) -> (tensor<2x3x4xf64> {convseq.io = "y"}) {
    %y = convseq.add_positions %x : (tensor<2x3x4xf64>) -> tensor<2x3x4xf64>
    return %y : tensor<2x3x4xf64>
  }

  func.func @dropout(%x: tensor<2x3x8xf64> {convseq.io = "x"}, %seed: i64 {convseq.io = "seed"}, %step: i64 {convseq.io = "step"})
      -> (tensor<2x3x8xf64> {convseq.io = "y"}) {
    %y = convseq.dropout %x rng(%seed, %step) {rate = 3.0e-01 : f64, stream = 2 : i64}
        : (tensor<2x3x8xf64>, i64, i64) -> tensor<2x3x8xf64>
    return %y : tensor<2x3x8xf64>
  }

  // Rows of 37: two full 16-lane vector tiles and a scalar tail each, so
  // the Dropout.PhiloxMasks test sees both forms of the mask code.
  func.func @dropout_rows(%x: tensor<3x37xf64> {convseq.io = "x"}, %seed: i64 {convseq.io = "seed"}, %step: i64 {convseq.io = "step"})
      -> (tensor<3x37xf64> {convseq.io = "y"}) {
    %y = convseq.dropout %x rng(%seed, %step) {rate = 5.0e-01 : f64, stream = 7 : i64}
        : (tensor<3x37xf64>, i64, i64) -> tensor<3x37xf64>
    return %y : tensor<3x37xf64>
  }

  func.func @relu_dropout(%x: tensor<2x3x8xf64> {convseq.io = "x"}, %seed: i64 {convseq.io = "seed"}, %step: i64 {convseq.io = "step"})
      -> (tensor<2x3x8xf64> {convseq.io = "y"}) {
    // T5's FFN hidden layer: relu's gradient reads its mask from the
    // dropout's result.
    %h = convseq.relu %x : tensor<2x3x8xf64>
    %y = convseq.dropout %h rng(%seed, %step) {rate = 3.0e-01 : f64, stream = 2 : i64}
        : (tensor<2x3x8xf64>, i64, i64) -> tensor<2x3x8xf64>
    return %y : tensor<2x3x8xf64>
  }

  func.func @heads(%x: tensor<2x3x4xf64> {convseq.io = "x"}, %w: tensor<2x2x3x2xf64> {convseq.io = "w"})
      -> (tensor<2x3x4xf64> {convseq.io = "y"}) {
    // split_heads, an element-wise op on the split value and merge_heads.
    %s = convseq.split_heads %x {heads = 2 : i64} : (tensor<2x3x4xf64>) -> tensor<2x2x3x2xf64>
    %g = convseq.glu %s, %w : tensor<2x2x3x2xf64>
    %y = convseq.merge_heads %g : (tensor<2x2x3x2xf64>) -> tensor<2x3x4xf64>
    return %y : tensor<2x3x4xf64>
  }

  func.func @attention_masked(%q: tensor<2x2x3x4xf64> {convseq.io = "q"}, %k: tensor<2x2x5x4xf64> {convseq.io = "k"},
                              %v: tensor<2x2x5x3xf64> {convseq.io = "v"}, %ids: tensor<2x5xi32> {convseq.io = "ids"})
      -> (tensor<2x2x3x3xf64> {convseq.io = "y"}) {
    %m = convseq.padding_mask %ids : (tensor<2x5xi32>) -> tensor<2x5xi1>
    %y = convseq.dot_product_attention %q, %k, %v key_mask %m
        : (tensor<2x2x3x4xf64>, tensor<2x2x5x4xf64>, tensor<2x2x5x3xf64>, tensor<2x5xi1>) -> tensor<2x2x3x3xf64>
    return %y : tensor<2x2x3x3xf64>
  }

  func.func @attention_causal(%q: tensor<1x2x3x4xf64> {convseq.io = "q"}, %k: tensor<1x2x5x4xf64> {convseq.io = "k"},
                              %v: tensor<1x2x5x4xf64> {convseq.io = "v"}) -> (tensor<1x2x3x4xf64> {convseq.io = "y"}) {
    %y = convseq.dot_product_attention %q, %k, %v {causal, scale = 0.7 : f64}
        : (tensor<1x2x3x4xf64>, tensor<1x2x5x4xf64>, tensor<1x2x5x4xf64>) -> tensor<1x2x3x4xf64>
    return %y : tensor<1x2x3x4xf64>
  }

  // At least 32 queries: convseq-tile-attention's loops, forward and
  // gradient (two vectors of 16 keys, the second part padding; a row of 20
  // values is a 16-lane and a 4-lane vector; the forward's 34 rows are 8
  // blocks of 4 and 2 single rows, the gradient's 9 groups of 4, the last
  // with two zero rows).
  func.func @attention_tiled(%q: tensor<2x1x34x20xf64> {convseq.io = "q"}, %k: tensor<2x1x21x20xf64> {convseq.io = "k"},
                             %v: tensor<2x1x21x20xf64> {convseq.io = "v"}, %ids: tensor<2x21xi32> {convseq.io = "ids"})
      -> (tensor<2x1x34x20xf64> {convseq.io = "y"}) {
    %m = convseq.padding_mask %ids : (tensor<2x21xi32>) -> tensor<2x21xi1>
    %y = convseq.dot_product_attention %q, %k, %v key_mask %m
        : (tensor<2x1x34x20xf64>, tensor<2x1x21x20xf64>, tensor<2x1x21x20xf64>, tensor<2x21xi1>) -> tensor<2x1x34x20xf64>
    return %y : tensor<2x1x34x20xf64>
  }

  func.func @attention_tiled_causal(%q: tensor<1x2x33x16xf64> {convseq.io = "q"}, %k: tensor<1x2x37x16xf64> {convseq.io = "k"},
                                    %v: tensor<1x2x37x8xf64> {convseq.io = "v"}) -> (tensor<1x2x33x8xf64> {convseq.io = "y"}) {
    %y = convseq.dot_product_attention %q, %k, %v {causal}
        : (tensor<1x2x33x16xf64>, tensor<1x2x37x16xf64>, tensor<1x2x37x8xf64>) -> tensor<1x2x33x8xf64>
    return %y : tensor<1x2x33x8xf64>
  }

  func.func @attention_dropout(%q: tensor<2x1x4x2xf64> {convseq.io = "q"}, %k: tensor<2x1x4x2xf64> {convseq.io = "k"},
                               %v: tensor<2x1x4x2xf64> {convseq.io = "v"}, %seed: i64 {convseq.io = "seed"},
                               %step: i64 {convseq.io = "step"}) -> (tensor<2x1x4x2xf64> {convseq.io = "y"}) {
    %y = convseq.dot_product_attention %q, %k, %v rng(%seed, %step) {causal, dropout = 2.0e-01 : f64, stream = 5 : i64}
        : (tensor<2x1x4x2xf64>, tensor<2x1x4x2xf64>, tensor<2x1x4x2xf64>, i64, i64) -> tensor<2x1x4x2xf64>
    return %y : tensor<2x1x4x2xf64>
  }

  // Dropout in convseq-tile-attention's loops (causal, 34 queries against
  // 37 keys: the gradient walks the second block of 32 keys from the group
  // of row 29, rows 28 to 31): the forward's and the gradient's must draw
  // the same mask.
  func.func @attention_tiled_dropout(%q: tensor<2x2x34x8xf64> {convseq.io = "q"}, %k: tensor<2x2x37x8xf64> {convseq.io = "k"},
                                     %v: tensor<2x2x37x12xf64> {convseq.io = "v"}, %seed: i64 {convseq.io = "seed"},
                                     %step: i64 {convseq.io = "step"}) -> (tensor<2x2x34x12xf64> {convseq.io = "y"}) {
    %y = convseq.dot_product_attention %q, %k, %v rng(%seed, %step) {causal, dropout = 3.0e-01 : f64, stream = 3 : i64}
        : (tensor<2x2x34x8xf64>, tensor<2x2x37x8xf64>, tensor<2x2x37x12xf64>, i64, i64) -> tensor<2x2x34x12xf64>
    return %y : tensor<2x2x34x12xf64>
  }

  // Not a gradient check: with q = 0 every probability is 1 / S and with
  // v = I output (b, h, i, j) is key j's kept probability, which
  // Dropout.TiledAttentionMask compares with Philox's word for (b, h, i, j).
  func.func @attention_dropout_mask(%q: tensor<2x2x33x4xf64> {convseq.io = "q"}, %k: tensor<2x2x20x4xf64> {convseq.io = "k"},
                                    %v: tensor<2x2x20x20xf64> {convseq.io = "v"}, %seed: i64 {convseq.io = "seed"},
                                    %step: i64 {convseq.io = "step"}) -> (tensor<2x2x33x20xf64> {convseq.io = "y"}) {
    %y = convseq.dot_product_attention %q, %k, %v rng(%seed, %step) {dropout = 3.0e-01 : f64, stream = 3 : i64}
        : (tensor<2x2x33x4xf64>, tensor<2x2x20x4xf64>, tensor<2x2x20x20xf64>, i64, i64) -> tensor<2x2x33x20xf64>
    return %y : tensor<2x2x33x20xf64>
  }

  func.func @cross_entropy(%logits: tensor<2x3x7xf64> {convseq.io = "logits"}, %ids: tensor<2x3xi32> {convseq.io = "ids"})
      -> (tensor<f64> {convseq.io = "loss"}) {
    %l = convseq.cross_entropy %logits, %ids {pad_id = 0 : i64} : (tensor<2x3x7xf64>, tensor<2x3xi32>) -> tensor<f64>
    return %l : tensor<f64>
  }

  func.func @cross_entropy_smoothed(%logits: tensor<3x7xf64> {convseq.io = "logits"}, %ids: tensor<3xi32> {convseq.io = "ids"})
      -> (tensor<f64> {convseq.io = "loss"}) {
    %l = convseq.cross_entropy %logits, %ids {pad_id = 0 : i64, label_smoothing = 1.0e-01 : f64}
        : (tensor<3x7xf64>, tensor<3xi32>) -> tensor<f64>
    return %l : tensor<f64>
  }

  func.func @residual_reuse(%x: tensor<2x3x4xf64> {convseq.io = "x"}, %w: tensor<4x4xf64> {convseq.io = "w"})
      -> (tensor<2x3x4xf64> {convseq.io = "y"}) {
    // x reaches y three ways and w twice: the gradients must add up.
    %h = convseq.linear %x, %w : (tensor<2x3x4xf64>, tensor<4x4xf64>) -> tensor<2x3x4xf64>
    %r = arith.addf %x, %h : tensor<2x3x4xf64>
    %g = convseq.linear %r, %w : (tensor<2x3x4xf64>, tensor<4x4xf64>) -> tensor<2x3x4xf64>
    %y = arith.addf %g, %x : tensor<2x3x4xf64>
    return %y : tensor<2x3x4xf64>
  }

  func.func @reshape_then_softmax(%x: tensor<2x3x6xf64> {convseq.io = "x"}) -> (tensor<2x3x2x3xf64> {convseq.io = "y"}) {
    %e = tensor.expand_shape %x [[0], [1], [2, 3]] output_shape [2, 3, 2, 3] : tensor<2x3x6xf64> into tensor<2x3x2x3xf64>
    %y = convseq.softmax %e : tensor<2x3x2x3xf64>
    return %y : tensor<2x3x2x3xf64>
  }

  func.func @two_results(%x: tensor<2x3xf64> {convseq.io = "x"}) -> (tensor<2x3xf64> {convseq.io = "a"}, tensor<2x3xf64> {convseq.io = "b"}) {
    // Two outputs, each with its own cotangent.
    %a = convseq.relu %x : tensor<2x3xf64>
    %b = convseq.softmax %x : tensor<2x3xf64>
    return %a, %b : tensor<2x3xf64>, tensor<2x3xf64>
  }
}

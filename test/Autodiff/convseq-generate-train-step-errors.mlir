// RUN: convseq-opt %s --convseq-generate-train-step --split-input-file --verify-diagnostics

// expected-error @+1 {{has invalid 'convseq.training': 'optimizer' must be "adamw" or "adafactor"}}
func.func @sgd(%w: tensor<4x5xf32> {convseq.param = "w"}, %x: tensor<3x4xf32>,
               %t: tensor<3xi32>, %step: i64 {convseq.io = "step"}) -> tensor<f32>
    attributes {convseq.training = {optimizer = "sgd"}} {
  %y = convseq.linear %x, %w : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  %l = convseq.cross_entropy %y, %t : (tensor<3x5xf32>, tensor<3xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// expected-error @+1 {{has invalid 'convseq.training': AdamW needs a 'learning_rate'}}
func.func @adamw(%w: tensor<4x5xf32> {convseq.param = "w"}, %x: tensor<3x4xf32>,
                 %t: tensor<3xi32>, %step: i64 {convseq.io = "step"}) -> tensor<f32>
    attributes {convseq.training = {optimizer = "adamw"}} {
  %y = convseq.linear %x, %w : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  %l = convseq.cross_entropy %y, %t : (tensor<3x5xf32>, tensor<3xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// expected-error @+1 {{has invalid 'convseq.training': unknown key 'momentum'}}
func.func @unknown(%w: tensor<4x5xf32> {convseq.param = "w"}, %x: tensor<3x4xf32>,
                   %t: tensor<3xi32>, %step: i64 {convseq.io = "step"}) -> tensor<f32>
    attributes {convseq.training = {momentum = 0.9 : f64}} {
  %y = convseq.linear %x, %w : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  %l = convseq.cross_entropy %y, %t : (tensor<3x5xf32>, tensor<3xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// expected-error @+1 {{has invalid 'convseq.training': 'learning_rate' must be positive}}
func.func @negative(%w: tensor<4x5xf32> {convseq.param = "w"}, %x: tensor<3x4xf32>,
                    %t: tensor<3xi32>, %step: i64 {convseq.io = "step"}) -> tensor<f32>
    attributes {convseq.training = {learning_rate = -1.0 : f64}} {
  %y = convseq.linear %x, %w : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  %l = convseq.cross_entropy %y, %t : (tensor<3x5xf32>, tensor<3xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// expected-error @+1 {{needs an i64 argument {convseq.io = "step"}: the step number the schedule reads}}
func.func @no_step(%w: tensor<4x5xf32> {convseq.param = "w"}, %x: tensor<3x4xf32>,
                   %t: tensor<3xi32>) -> tensor<f32>
    attributes {convseq.training = {}} {
  %y = convseq.linear %x, %w : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  %l = convseq.cross_entropy %y, %t : (tensor<3x5xf32>, tensor<3xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// expected-error @+1 {{has no trainable parameter}}
func.func @all_frozen(%w: tensor<4x5xf32> {convseq.param = "w", convseq.frozen},
                      %x: tensor<3x4xf32>, %t: tensor<3xi32>,
                      %step: i64 {convseq.io = "step"}) -> tensor<f32>
    attributes {convseq.training = {}} {
  %y = convseq.linear %x, %w : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  %l = convseq.cross_entropy %y, %t : (tensor<3x5xf32>, tensor<3xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// expected-error @+1 {{must return one scalar loss (a 0-d float tensor) to be trained}}
func.func @logits(%w: tensor<4x5xf32> {convseq.param = "w"}, %x: tensor<3x4xf32>,
                  %step: i64 {convseq.io = "step"}) -> tensor<3x5xf32>
    attributes {convseq.training = {}} {
  %y = convseq.linear %x, %w : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}

// -----

func.func @taken_step() {
  return
}

// expected-error @+1 {{cannot get a training step: '@taken_step' exists already}}
func.func @taken(%w: tensor<4x5xf32> {convseq.param = "w"}, %x: tensor<3x4xf32>,
                 %t: tensor<3xi32>, %step: i64 {convseq.io = "step"}) -> tensor<f32>
    attributes {convseq.training = {}} {
  %y = convseq.linear %x, %w : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  %l = convseq.cross_entropy %y, %t : (tensor<3x5xf32>, tensor<3xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// expected-error @+1 {{has invalid 'convseq.training': 'entry_points' must list some of "step", "grad" and "apply"}}
func.func @accumulate(%w: tensor<4x5xf32> {convseq.param = "w"}, %x: tensor<3x4xf32>,
                      %t: tensor<3xi32>, %step: i64 {convseq.io = "step"}) -> tensor<f32>
    attributes {convseq.training = {entry_points = ["step", "accumulate"]}} {
  %y = convseq.linear %x, %w : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  %l = convseq.cross_entropy %y, %t : (tensor<3x5xf32>, tensor<3xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// expected-error @+1 {{has invalid 'convseq.training': 'entry_points' must list some of "step", "grad" and "apply"}}
func.func @nothing(%w: tensor<4x5xf32> {convseq.param = "w"}, %x: tensor<3x4xf32>,
                   %t: tensor<3xi32>, %step: i64 {convseq.io = "step"}) -> tensor<f32>
    attributes {convseq.training = {entry_points = []}} {
  %y = convseq.linear %x, %w : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  %l = convseq.cross_entropy %y, %t : (tensor<3x5xf32>, tensor<3xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

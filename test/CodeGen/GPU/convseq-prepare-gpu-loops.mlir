// RUN: convseq-opt %s --convseq-prepare-gpu-loops --split-input-file | FileCheck %s

// On a GPU target the host only allocates and launches; every computation
// on buffers must become a parallel loop that the mapping makes a kernel.

// A copy is a linalg op like any other.
// CHECK-LABEL: func.func @copy(
// CHECK-NOT:     memref.copy
// CHECK:         linalg.copy ins(%{{.+}} : memref<?xf32>) outs(%{{.+}} : memref<?xf32>)
#id1 = affine_map<(d0) -> (d0)>
#rowsum = affine_map<(d0, d1) -> (d1)>
#all = affine_map<(d0, d1) -> (d0, d1)>
#scalar = affine_map<(d0, d1) -> ()>

func.func @copy(%a: memref<?xf32>, %b: memref<?xf32>) {
  memref.copy %a, %b : memref<?xf32> to memref<?xf32>
  return
}

// -----

// No parallel iterator: one thread runs it, in a one-iteration loop.
// CHECK-LABEL: func.func @full_reduction(
// CHECK:         %[[C0:.+]] = arith.constant 0 : index
// CHECK:         %[[C1:.+]] = arith.constant 1 : index
// CHECK:         scf.parallel (%{{.+}}) = (%[[C0]]) to (%[[C1]]) step (%[[C1]])
// CHECK-NEXT:      linalg.generic {{.+}} iterator_types = ["reduction", "reduction"]
#id1 = affine_map<(d0) -> (d0)>
#rowsum = affine_map<(d0, d1) -> (d1)>
#all = affine_map<(d0, d1) -> (d0, d1)>
#scalar = affine_map<(d0, d1) -> ()>

func.func @full_reduction(%a: memref<?x?xf32>, %sum: memref<f32>) {
  linalg.generic {indexing_maps = [#all, #scalar], iterator_types = ["reduction", "reduction"]}
      ins(%a : memref<?x?xf32>) outs(%sum : memref<f32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A reduction before a parallel loop: the parallel loop moves outside, so
// that it is the kernel's grid and not a host loop of launches.
// CHECK-DAG:   #[[TRANSPOSED:.+]] = affine_map<(d0, d1) -> (d1, d0)>
// CHECK-DAG:   #[[ROW:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @column_sum(
// CHECK-NOT:     scf.parallel
// CHECK:         linalg.generic {indexing_maps = [#[[TRANSPOSED]], #[[ROW]]], iterator_types = ["parallel", "reduction"]}
#id1 = affine_map<(d0) -> (d0)>
#rowsum = affine_map<(d0, d1) -> (d1)>
#all = affine_map<(d0, d1) -> (d0, d1)>
#scalar = affine_map<(d0, d1) -> ()>

func.func @column_sum(%a: memref<?x?xf32>, %sum: memref<?xf32>) {
  linalg.generic {indexing_maps = [#all, #rowsum], iterator_types = ["reduction", "parallel"]}
      ins(%a : memref<?x?xf32>) outs(%sum : memref<?xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A host loop indexed by data: the whole loop goes to one thread, its
// linalg ops as sequential loops.
// CHECK-LABEL: func.func @scatter(
// CHECK:         scf.parallel
// CHECK-NEXT:      scf.for
// CHECK-NEXT:        %[[ID:.+]] = memref.load
// CHECK:             scf.for
// CHECK:               arith.addf
// CHECK:               memref.store
// CHECK-NOT:     linalg.generic
#id1 = affine_map<(d0) -> (d0)>
#rowsum = affine_map<(d0, d1) -> (d1)>
#all = affine_map<(d0, d1) -> (d0, d1)>
#scalar = affine_map<(d0, d1) -> ()>

func.func @scatter(%ids: memref<?xi32>, %rows: memref<?x4xf32>, %table: memref<10x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %ids, %c0 : memref<?xi32>
  scf.for %i = %c0 to %n step %c1 {
    %id = memref.load %ids[%i] : memref<?xi32>
    %row = arith.index_cast %id : i32 to index
    %src = memref.subview %rows[%i, 0] [1, 4] [1, 1] : memref<?x4xf32> to memref<4xf32, strided<[1], offset: ?>>
    %dst = memref.subview %table[%row, 0] [1, 4] [1, 1] : memref<10x4xf32> to memref<4xf32, strided<[1], offset: ?>>
    linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
        ins(%src : memref<4xf32, strided<[1], offset: ?>>) outs(%dst : memref<4xf32, strided<[1], offset: ?>>) {
    ^bb0(%x: f32, %y: f32):
      %s = arith.addf %x, %y : f32
      linalg.yield %s : f32
    }
  }
  return
}

// -----

// A scalar read back from a buffer: its store moves into a one-thread
// loop, and the scalar ops feeding the element-wise op are recomputed in
// its body; nothing is left on the host.
// CHECK-LABEL: func.func @host_scalar(
// CHECK-SAME:    %[[NORM:[^:]+]]: memref<f64>, %[[COPY:[^:]+]]: memref<f64>
// CHECK:         scf.parallel
// CHECK-NEXT:      %[[X:.+]] = memref.load %[[NORM]][]
// CHECK-NEXT:      memref.store %[[X]], %[[COPY]][]
// CHECK:         linalg.generic
// CHECK-NEXT:    ^bb0(%[[Y:.+]]: f32):
// CHECK:           %[[LOADED:.+]] = memref.load %[[NORM]][]
// CHECK-NEXT:      %[[ROOT:.+]] = math.sqrt %[[LOADED]]
// CHECK-NEXT:      %[[SCALE:.+]] = arith.divf %{{.+}}, %[[ROOT]]
// CHECK-NEXT:      %[[S32:.+]] = arith.truncf %[[SCALE]]
// CHECK-NEXT:      arith.mulf %[[Y]], %[[S32]]
// CHECK-NOT:     math.sqrt
#id1 = affine_map<(d0) -> (d0)>
#rowsum = affine_map<(d0, d1) -> (d1)>
#all = affine_map<(d0, d1) -> (d0, d1)>
#scalar = affine_map<(d0, d1) -> ()>

func.func @host_scalar(%norm: memref<f64>, %copy: memref<f64>, %g: memref<?xf32>) {
  %one = arith.constant 1.0 : f64
  %x = memref.load %norm[] : memref<f64>
  memref.store %x, %copy[] : memref<f64>
  %root = math.sqrt %x : f64
  %scale = arith.divf %one, %root : f64
  %s32 = arith.truncf %scale : f64 to f32
  linalg.generic {indexing_maps = [#id1], iterator_types = ["parallel"]} outs(%g : memref<?xf32>) {
  ^bb0(%y: f32):
    %m = arith.mulf %y, %s32 : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// The buffer changes between the load and its use: recomputing the scalar
// in the kernel would read the new value, so the load stays on the host
// (where convseq-gpu-host-buffers reports it).
// CHECK-LABEL: func.func @host_scalar_overwritten(
// CHECK-SAME:    %[[NORM:[^:]+]]: memref<f64>
// CHECK:         %[[X:.+]] = memref.load %[[NORM]][]
// CHECK:         scf.parallel
// CHECK-NEXT:      linalg.fill
// CHECK:         %[[S:.+]] = arith.truncf %[[X]]
// CHECK-NEXT:    linalg.generic
// CHECK-NEXT:    ^bb0(%[[Y:.+]]: f32):
// CHECK-NEXT:      arith.mulf %[[Y]], %[[S]]
#id1 = affine_map<(d0) -> (d0)>
func.func @host_scalar_overwritten(%norm: memref<f64>, %g: memref<?xf32>) {
  %zero = arith.constant 0.0 : f64
  %x = memref.load %norm[] : memref<f64>
  linalg.fill ins(%zero : f64) outs(%norm : memref<f64>)
  %s32 = arith.truncf %x : f64 to f32
  linalg.generic {indexing_maps = [#id1], iterator_types = ["parallel"]} outs(%g : memref<?xf32>) {
  ^bb0(%y: f32):
    %m = arith.mulf %y, %s32 : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// Nor if the buffer is freed before its use: the kernel would read
// released memory.
// CHECK-LABEL: func.func @host_scalar_freed(
// CHECK-SAME:    %[[G:[^:]+]]: memref<?xf32>
// CHECK:         %[[NORM:.+]] = memref.alloc() : memref<f64>
// CHECK:         %[[X:.+]] = memref.load %[[NORM]][]
// CHECK-NEXT:    memref.dealloc %[[NORM]]
// CHECK-NEXT:    %[[S:.+]] = arith.truncf %[[X]]
// CHECK-NEXT:    linalg.generic
// CHECK-NEXT:    ^bb0(%[[Y:.+]]: f32):
// CHECK-NEXT:      arith.mulf %[[Y]], %[[S]]
#id1 = affine_map<(d0) -> (d0)>
func.func @host_scalar_freed(%g: memref<?xf32>) {
  %norm = memref.alloc() : memref<f64>
  %x = memref.load %norm[] : memref<f64>
  memref.dealloc %norm : memref<f64>
  %s32 = arith.truncf %x : f64 to f32
  linalg.generic {indexing_maps = [#id1], iterator_types = ["parallel"]} outs(%g : memref<?xf32>) {
  ^bb0(%y: f32):
    %m = arith.mulf %y, %s32 : f32
    linalg.yield %m : f32
  }
  return
}

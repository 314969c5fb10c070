// RUN: convseq-opt %s --convseq-shrink-buffer-lifetimes --split-input-file | FileCheck %s

// Each buffer is freed right after its last use, not at the end of the
// function: %a after the copy that reads it, %b after the op that writes it
// (nothing reads it), so the two are never live with %c.

// CHECK-LABEL: func.func @straight_line(
// CHECK-SAME:    %[[X:[^:]+]]: memref<16xf32>, %[[OUT:[^:]+]]: memref<16xf32>)
// CHECK:         %[[A:.+]] = memref.alloc() : memref<16xf32>
// CHECK-NEXT:    linalg.copy ins(%[[X]] : memref<16xf32>) outs(%[[A]] : memref<16xf32>)
// CHECK-NEXT:    %[[B:.+]] = memref.alloc() : memref<16xf32>
// CHECK-NEXT:    linalg.copy ins(%[[A]] : memref<16xf32>) outs(%[[B]] : memref<16xf32>)
// CHECK-NEXT:    memref.dealloc %[[A]]
// CHECK-NEXT:    memref.dealloc %[[B]]
// CHECK-NEXT:    %[[C:.+]] = memref.alloc() : memref<16xf32>
// CHECK-NEXT:    linalg.copy ins(%[[X]] : memref<16xf32>) outs(%[[C]] : memref<16xf32>)
// CHECK-NEXT:    linalg.copy ins(%[[C]] : memref<16xf32>) outs(%[[OUT]] : memref<16xf32>)
// CHECK-NEXT:    memref.dealloc %[[C]]
// CHECK-NEXT:    return
func.func @straight_line(%x: memref<16xf32>, %out: memref<16xf32>) {
  %a = memref.alloc() : memref<16xf32>
  linalg.copy ins(%x : memref<16xf32>) outs(%a : memref<16xf32>)
  %b = memref.alloc() : memref<16xf32>
  linalg.copy ins(%a : memref<16xf32>) outs(%b : memref<16xf32>)
  %c = memref.alloc() : memref<16xf32>
  linalg.copy ins(%x : memref<16xf32>) outs(%c : memref<16xf32>)
  linalg.copy ins(%c : memref<16xf32>) outs(%out : memref<16xf32>)
  memref.dealloc %a : memref<16xf32>
  memref.dealloc %b : memref<16xf32>
  memref.dealloc %c : memref<16xf32>
  return
}

// -----

// A buffer is allocated just before its first use: %a after everything
// that uses %b, so the two are never live at once.

// CHECK-LABEL: func.func @sink(
// CHECK-SAME:    %[[X:[^:]+]]: memref<16xf32>, %[[OUT:[^:]+]]: memref<16xf32>)
// CHECK-NEXT:    %[[B:.+]] = memref.alloc() : memref<16xf32>
// CHECK-NEXT:    linalg.copy ins(%[[X]] : memref<16xf32>) outs(%[[B]] : memref<16xf32>)
// CHECK-NEXT:    linalg.copy ins(%[[B]] : memref<16xf32>) outs(%[[OUT]] : memref<16xf32>)
// CHECK-NEXT:    memref.dealloc %[[B]]
// CHECK-NEXT:    %[[A:.+]] = memref.alloc() : memref<16xf32>
// CHECK-NEXT:    linalg.copy ins(%[[X]] : memref<16xf32>) outs(%[[A]] : memref<16xf32>)
// CHECK-NEXT:    linalg.copy ins(%[[A]] : memref<16xf32>) outs(%[[OUT]] : memref<16xf32>)
// CHECK-NEXT:    memref.dealloc %[[A]]
// CHECK-NEXT:    %[[UNUSED:.+]] = memref.alloc() : memref<16xf32>
// CHECK-NEXT:    memref.dealloc %[[UNUSED]]
// CHECK-NEXT:    return
func.func @sink(%x: memref<16xf32>, %out: memref<16xf32>) {
  %a = memref.alloc() : memref<16xf32>
  %unused = memref.alloc() : memref<16xf32>
  %b = memref.alloc() : memref<16xf32>
  linalg.copy ins(%x : memref<16xf32>) outs(%b : memref<16xf32>)
  linalg.copy ins(%b : memref<16xf32>) outs(%out : memref<16xf32>)
  linalg.copy ins(%x : memref<16xf32>) outs(%a : memref<16xf32>)
  linalg.copy ins(%a : memref<16xf32>) outs(%out : memref<16xf32>)
  memref.dealloc %a : memref<16xf32>
  memref.dealloc %b : memref<16xf32>
  memref.dealloc %unused : memref<16xf32>
  return
}

// -----

// A size read from a view of a buffer is not a use of it: the read is
// resolved to the size the view was made with, and %a is allocated after %b
// is freed.

// CHECK-LABEL: func.func @size_of_a_view(
// CHECK-SAME:    %[[N:[^:]+]]: index,
// CHECK-NEXT:    %[[B:.+]] = memref.alloc(%[[N]]) : memref<?x2x16xf32>
// CHECK-NEXT:    linalg.copy
// CHECK-NEXT:    linalg.copy
// CHECK-NEXT:    memref.dealloc %[[B]]
// CHECK-NEXT:    %[[A:.+]] = memref.alloc(%[[N]]) : memref<?x32xf32>
// CHECK-NEXT:    linalg.copy
// CHECK-NEXT:    memref.dealloc %[[A]]
// CHECK-NEXT:    return
func.func @size_of_a_view(%n: index, %x: memref<?x32xf32>, %y: memref<?x2x16xf32>) {
  %c0 = arith.constant 0 : index
  %a = memref.alloc(%n) : memref<?x32xf32>
  %view = memref.expand_shape %a [[0], [1, 2]] output_shape [%n, 2, 16] : memref<?x32xf32> into memref<?x2x16xf32>
  %size = memref.dim %view, %c0 : memref<?x2x16xf32>
  %b = memref.alloc(%size) : memref<?x2x16xf32>
  linalg.copy ins(%y : memref<?x2x16xf32>) outs(%b : memref<?x2x16xf32>)
  linalg.copy ins(%b : memref<?x2x16xf32>) outs(%y : memref<?x2x16xf32>)
  linalg.copy ins(%x : memref<?x32xf32>) outs(%a : memref<?x32xf32>)
  memref.dealloc %a : memref<?x32xf32>
  memref.dealloc %b : memref<?x2x16xf32>
  return
}

// -----

// Uses through views count: a subview, a reshape of it, and the memref an
// unknown op (a call) returns, which may be the buffer itself.

// CHECK-LABEL: func.func @views(
// CHECK:         %[[A:.+]] = memref.alloc() : memref<4x4xf32>
// CHECK:         %[[ROW:.+]] = memref.subview %[[A]]
// CHECK:         %[[FLAT:.+]] = memref.collapse_shape %[[ROW]]
// CHECK:         %[[SAME:.+]] = call @identity(%[[FLAT]])
// CHECK:         linalg.copy ins(%[[SAME]] : memref<4xf32, strided<[1], offset: 4>>)
// CHECK-SAME:      outs(%{{.+}} : memref<4xf32>)
// CHECK-NEXT:    memref.dealloc %[[A]]
// CHECK-NEXT:    linalg.copy
// CHECK-NEXT:    return
func.func private @identity(memref<4xf32, strided<[1], offset: 4>>) -> memref<4xf32, strided<[1], offset: 4>>
func.func @views(%x: memref<4x4xf32>, %y: memref<4xf32>, %out: memref<4xf32>) {
  %a = memref.alloc() : memref<4x4xf32>
  linalg.copy ins(%x : memref<4x4xf32>) outs(%a : memref<4x4xf32>)
  %row = memref.subview %a[1, 0] [1, 4] [1, 1] : memref<4x4xf32> to memref<1x4xf32, strided<[4, 1], offset: 4>>
  %flat = memref.collapse_shape %row [[0, 1]] : memref<1x4xf32, strided<[4, 1], offset: 4>> into memref<4xf32, strided<[1], offset: 4>>
  %same = call @identity(%flat) : (memref<4xf32, strided<[1], offset: 4>>) -> memref<4xf32, strided<[1], offset: 4>>
  linalg.copy ins(%same : memref<4xf32, strided<[1], offset: 4>>) outs(%out : memref<4xf32>)
  linalg.copy ins(%y : memref<4xf32>) outs(%out : memref<4xf32>)
  memref.dealloc %a : memref<4x4xf32>
  return
}

// -----

// A use inside a loop is a use by the loop; a buffer a branch yields is used
// wherever the branch's result is.

// CHECK-LABEL: func.func @regions(
// CHECK:         %[[A:.+]] = memref.alloc() : memref<16xf32>
// CHECK:         scf.for
// CHECK:           memref.store %{{.+}}, %[[A]]
// CHECK:         }
// CHECK-NEXT:    %[[B:.+]] = memref.alloc() : memref<16xf32>
// CHECK-NEXT:    %[[PICK:.+]] = scf.if %{{.+}} -> (memref<16xf32>) {
// CHECK-NEXT:      scf.yield %[[A]]
// CHECK-NEXT:    } else {
// CHECK-NEXT:      scf.yield %[[B]]
// CHECK-NEXT:    }
// CHECK-NEXT:    linalg.copy ins(%[[PICK]] : memref<16xf32>)
// CHECK-NEXT:    memref.dealloc %[[A]]
// CHECK-NEXT:    memref.dealloc %[[B]]
// CHECK-NEXT:    linalg.copy
// CHECK-NEXT:    return
func.func @regions(%x: memref<16xf32>, %cond: i1, %v: f32, %out: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %a = memref.alloc() : memref<16xf32>
  scf.for %i = %c0 to %c16 step %c1 {
    memref.store %v, %a[%i] : memref<16xf32>
  }
  %b = memref.alloc() : memref<16xf32>
  %pick = scf.if %cond -> (memref<16xf32>) {
    scf.yield %a : memref<16xf32>
  } else {
    scf.yield %b : memref<16xf32>
  }
  linalg.copy ins(%pick : memref<16xf32>) outs(%out : memref<16xf32>)
  linalg.copy ins(%x : memref<16xf32>) outs(%out : memref<16xf32>)
  memref.dealloc %a : memref<16xf32>
  memref.dealloc %b : memref<16xf32>
  return
}

// -----

// Deallocs stay where they are when the buffer is not allocated in their
// block (an argument, or a buffer of the enclosing block freed in a branch).

// CHECK-LABEL: func.func @stays(
// CHECK:         linalg.copy
// CHECK-NEXT:    linalg.copy
// CHECK-NEXT:    scf.if
// CHECK-NEXT:      linalg.copy
// CHECK-NEXT:      memref.dealloc
// CHECK-NEXT:    }
// CHECK-NEXT:    memref.dealloc %{{.+}} : memref<16xf32>
// CHECK-NEXT:    return
func.func @stays(%x: memref<16xf32>, %cond: i1, %out: memref<16xf32>) {
  %a = memref.alloc() : memref<16xf32>
  linalg.copy ins(%x : memref<16xf32>) outs(%a : memref<16xf32>)
  linalg.copy ins(%x : memref<16xf32>) outs(%out : memref<16xf32>)
  scf.if %cond {
    linalg.copy ins(%a : memref<16xf32>) outs(%out : memref<16xf32>)
    memref.dealloc %a : memref<16xf32>
  }
  memref.dealloc %x : memref<16xf32>
  return
}

// -----

// A buffer yielded by an scf.if whose branches each allocate it (a
// contraction versioned on its shape) is freed through its base after its
// last use; the deallocation pipeline puts that at the end. One that may be
// a buffer from outside (%x through the else branch) is not moved.

// CHECK-LABEL: func.func @branch_result(
// CHECK-SAME:    %[[C:[^:]+]]: i1, %[[X:[^:]+]]: memref<16xf32>, %[[OUT:[^:]+]]: memref<16xf32>)
// CHECK:         %[[R:.+]] = scf.if %[[C]] -> (memref<16xf32>) {
// CHECK:         linalg.copy ins(%[[R]] : memref<16xf32>) outs(%[[OUT]] : memref<16xf32>)
// CHECK-NEXT:    %[[BASE:.+]], %{{.+}}, %{{.+}}, %{{.+}} = memref.extract_strided_metadata %[[R]]
// CHECK-NEXT:    memref.dealloc %[[BASE]]
// CHECK:         %[[S:.+]] = scf.if %[[C]] -> (memref<16xf32>) {
// CHECK:         linalg.copy ins(%[[S]] : memref<16xf32>) outs(%[[OUT]] : memref<16xf32>)
// CHECK-NEXT:    linalg.copy ins(%[[X]] : memref<16xf32>) outs(%[[OUT]] : memref<16xf32>)
// CHECK-NEXT:    %[[SBASE:.+]], %{{.+}}, %{{.+}}, %{{.+}} = memref.extract_strided_metadata %[[S]]
// CHECK-NEXT:    memref.dealloc %[[SBASE]]
// CHECK-NEXT:    return
func.func @branch_result(%c: i1, %x: memref<16xf32>, %out: memref<16xf32>) {
  %r = scf.if %c -> (memref<16xf32>) {
    %a = memref.alloc() : memref<16xf32>
    linalg.copy ins(%x : memref<16xf32>) outs(%a : memref<16xf32>)
    scf.yield %a : memref<16xf32>
  } else {
    %b = memref.alloc() : memref<16xf32>
    linalg.copy ins(%x : memref<16xf32>) outs(%b : memref<16xf32>)
    scf.yield %b : memref<16xf32>
  }
  linalg.copy ins(%r : memref<16xf32>) outs(%out : memref<16xf32>)
  %s = scf.if %c -> (memref<16xf32>) {
    %a = memref.alloc() : memref<16xf32>
    scf.yield %a : memref<16xf32>
  } else {
    scf.yield %x : memref<16xf32>
  }
  linalg.copy ins(%s : memref<16xf32>) outs(%out : memref<16xf32>)
  linalg.copy ins(%x : memref<16xf32>) outs(%out : memref<16xf32>)
  %base, %offset, %size, %stride = memref.extract_strided_metadata %r : memref<16xf32> -> memref<f32>, index, index, index
  memref.dealloc %base : memref<f32>
  %sbase, %soffset, %ssize, %sstride = memref.extract_strided_metadata %s : memref<16xf32> -> memref<f32>, index, index, index
  memref.dealloc %sbase : memref<f32>
  return
}

# lit configuration of convseq's tests.
import os

import lit.formats

config.name = "convseq"
config.test_format = lit.formats.ShTest(not lit_config.isWindows)
config.suffixes = [".mlir", ".yaml", ".test"]
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "unittests", "Inputs"]

config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.convseq_obj_root, "test")

# Our tools first, then LLVM's FileCheck, not and split-file.
config.environment["PATH"] = os.pathsep.join(
    [config.convseq_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")]
)
config.substitutions.append(("%models", os.path.join(config.convseq_src_root, "models")))
config.substitutions.append(("%shared_data", config.shared_data_dir))
# mlir-runner's printing functions, for tests that run lowered code.
config.substitutions.append(
    (
        "%mlir_c_runner_utils",
        os.path.join(os.path.dirname(config.llvm_tools_dir), "lib", "libmlir_c_runner_utils.so"),
    )
)

if os.path.isdir(config.shared_data_dir):
    config.available_features.add("shared-data")

# ptxas (the CUDA toolkit's) assembles the GPU pipeline's kernels into cubins.
import shutil
if shutil.which("ptxas") or os.path.exists("/usr/local/cuda/bin/ptxas"):
    config.available_features.add("ptxas")

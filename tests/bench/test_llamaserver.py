from pathlib import Path

from bench import llamabench, llamaserver
from mkimage.wheel import cmake_args


def test_the_server_build_is_offline_and_keeps_the_wheels_flags():
    args = llamaserver.configure_args("x86_64")
    wheel = cmake_args("x86_64")
    # the wheel's flags first but its RPC ones (-DGGML_RPC=ON is among ours), then ours
    rest = [a for a in wheel if not a.startswith("-DGGML_RPC")]
    assert args[:len(rest)] == rest and "-DGGML_RPC=ON" in wheel
    # a later -D wins: the server and RPC on, nothing fetched at build time
    for want in ("-DLLAMA_BUILD_SERVER=ON", "-DGGML_RPC=ON", "-DLLAMA_USE_PREBUILT_UI=OFF",
                 "-DLLAMA_BUILD_UI=OFF", "-DLLAMA_CURL=OFF", "-DLLAMA_OPENSSL=OFF"):
        assert want in args
    # its own cache entry, apart from llama-bench's
    assert llamaserver.configure_args("x86_64") != llamabench.configure_args("x86_64")


def test_server_command_listens_on_loopback_with_the_adapter(tmp_path):
    cmd = llamaserver.server_command(Path("/x/llama-server"), Path("/m.gguf"), "127.0.0.1", 8080, 2,
                                     adapter="/a.lora.gguf")
    s = " ".join(cmd)
    assert "--host 127.0.0.1 --port 8080" in s and "-m /m.gguf" in s and "-t 2" in s
    assert cmd[-2:] == ["--lora", "/a.lora.gguf"] and "--no-webui" in cmd
    assert "--lora" not in llamaserver.server_command(Path("/s"), Path("/m"), "0.0.0.0", 1, 1)


def test_find_binary_by_name(tmp_path):
    (tmp_path / "bin").mkdir()
    exe = tmp_path / "bin" / "ggml-rpc-server"
    exe.write_text("")
    exe.chmod(0o755)
    assert llamabench.find_binary(tmp_path, "ggml-rpc-server") == exe
    assert llamabench.find_binary(tmp_path) is None

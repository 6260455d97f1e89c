// Plain corpus replay for the fuzz targets, so every target also builds
// with GCC and runs its corpus (and every regression input) under ctest.
// Usage: <target>_replay DIR_OR_FILE...
#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

int RunFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<uint8_t> d((std::istreambuf_iterator<char>(f)), {});
  LLVMFuzzerTestOneInput(d.data(), d.size());
  return 1;
}

int RunPath(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    std::fprintf(stderr, "replay: cannot stat %s\n", path.c_str());
    return -1;
  }
  if (!S_ISDIR(st.st_mode)) return RunFile(path);
  int n = 0;
  DIR* d = opendir(path.c_str());
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    int r = RunPath(path + "/" + name);
    if (r < 0) return r;
    n += r;
  }
  closedir(d);
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  int total = 0;
  for (int i = 1; i < argc; ++i) {
    int r = RunPath(argv[i]);
    if (r < 0) return 1;
    total += r;
  }
  // Random-ish inputs on top of the corpus, so the replay also walks paths
  // the corpus does not (a fixed seed: the run is repeatable).
  uint64_t x = 0x9e3779b97f4a7c15ull;
  std::vector<uint8_t> buf;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    buf.resize(x % 512);
    for (auto& b : buf) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      b = static_cast<uint8_t>(x);
    }
    LLVMFuzzerTestOneInput(buf.data(), buf.size());
  }
  std::printf("replayed %d corpus inputs and 20000 generated ones\n", total);
  if (total == 0) {
    std::fprintf(stderr, "replay: empty corpus\n");
    return 1;
  }
  return 0;
}

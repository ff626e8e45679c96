// The C++ counterpart of stream.c: the same stream from the simulated console, through the
// C header (it is C++-compatible: extern "C" guards), owned by RAII wrappers. Built with
// nothing but pkg-config:
//
//   c++ -std=c++17 stream.cpp $(pkg-config --cflags --libs xnano xnano_sim) -o stream-cxx
//
// Usage: stream-cxx [FRAMES]   (default 30; exits 0 once they arrived)
#include <xnano.h>
#include <xnano_sim.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

void check(xnano_result r, const char *what, const char *(*last_error)())
{
    if (r != XNANO_OK) {
        throw std::runtime_error(std::string(what) + ": " + xnano_result_name(r) + ": " + last_error());
    }
}

struct SimDeleter {
    void operator()(xnano_sim *s) const
    {
        xnano_sim_stop(s);
        xnano_sim_free(s);
    }
};
struct ClientDeleter {
    void operator()(xnano_client *c) const
    {
        xnano_client_stop(c);
        xnano_client_free(c);
    }
};

std::atomic<unsigned long> frames{0};

extern "C" void on_video(void *, const xnano_video_frame *) { frames.fetch_add(1); }

} // namespace

int main(int argc, char **argv)
try {
    const unsigned long want = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 30;
    if (xnano_abi_version() != XNANO_ABI_VERSION || xnano_sim_abi_version() != XNANO_SIM_ABI_VERSION) {
        std::cerr << "ABI mismatch\n";
        return 2;
    }
    std::cout << "xnano " << xnano_version() << " (ABI " << xnano_abi_version() << "), header "
              << XNANO_VERSION_STRING << "\n";

    xnano_sim_config sim_cfg{};
    sim_cfg.struct_size = sizeof sim_cfg;
    check(xnano_sim_config_default(&sim_cfg), "xnano_sim_config_default", xnano_sim_last_error);
    sim_cfg.width = 320;
    sim_cfg.height = 240;
    sim_cfg.smartglass = false;
    xnano_sim *raw_sim = nullptr;
    check(xnano_sim_new(&sim_cfg, &raw_sim), "xnano_sim_new", xnano_sim_last_error);
    std::unique_ptr<xnano_sim, SimDeleter> sim(raw_sim);
    uint16_t tcp = 0, udp = 0;
    check(xnano_sim_nano_ports(sim.get(), &tcp, &udp), "xnano_sim_nano_ports", xnano_sim_last_error);

    xnano_client_config cfg{};
    cfg.struct_size = sizeof cfg;
    check(xnano_client_config_default(&cfg), "xnano_client_config_default", xnano_last_error);
    xnano_client *raw_client = nullptr;
    check(xnano_client_new(&cfg, &raw_client), "xnano_client_new", xnano_last_error);
    std::unique_ptr<xnano_client, ClientDeleter> client(raw_client);
    check(xnano_client_set_video_callback(client.get(), on_video, nullptr), "set_video_callback",
          xnano_last_error);
    check(xnano_client_connect_nano(client.get(), "127.0.0.1", tcp, udp), "connect_nano", xnano_last_error);

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (frames.load() < want && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const unsigned long got = frames.load();
    client.reset();
    sim.reset();
    std::cout << "C++: " << got << " video frames from the simulated console (wanted " << want << ")\n";
    return got >= want ? 0 : 1;
} catch (const std::exception &e) {
    std::cerr << e.what() << "\n";
    return 1;
}

// C++ batch map calls on the real kernel (batch.o), included by test_cpp.cpp:
// 10,000 entries written in one call into a hash, a per-CPU hash and an
// array, each checked with single lookups; walked in chunks; part drained
// with lookup-and-delete; the rest deleted; partial failures give done().

std::uint64_t batch_val(std::uint32_t k) { return std::uint64_t{k} * 1000003u + 7; }

void test_batch() {
    const std::uint32_t N = 10000;
    bpfl::Object obj(obj_path("batch.o"));
    obj.load();
    std::vector<std::uint32_t> keys(N);
    std::vector<std::uint64_t> vals(N);
    for (std::uint32_t k = 0; k < N; k++)
        keys[k] = k, vals[k] = batch_val(k);
    for (const char* name : {"hash", "array"}) {
        auto m = obj.map(name);
        CHECK_EQ(m.update_batch(keys, vals), std::size_t{N});
        int bad = 0;
        for (std::uint32_t k = 0; k < N; k++)
            bad += m.get<std::uint32_t, std::uint64_t>(k).value_or(0) != batch_val(k);
        CHECK_EQ(bad, 0);
        bpfl::BatchCursor cur;
        std::map<std::uint32_t, std::uint64_t> seen;
        std::vector<std::uint32_t> ks(777);
        std::vector<std::uint64_t> vs(777);
        for (int calls = 0; !cur.done() && calls < 100000; calls++) {
            std::size_t n = m.lookup_batch(cur, ks, vs);
            for (std::size_t i = 0; i < n; i++)
                bad += !seen.emplace(ks[i], vs[i]).second || vs[i] != batch_val(ks[i]);
        }
        CHECK_EQ(seen.size(), std::size_t{N});
        CHECK_EQ(bad, 0);
        if (std::string(name) == "array") {
            std::string w = CHECK_THROWS(m.delete_batch(keys), EOPNOTSUPP);
            CHECK(w.find("BPF_MAP_TYPE_ARRAY") != std::string::npos);
            continue;
        }
        std::set<std::uint32_t> gone;
        cur.reset();
        std::vector<std::uint32_t> dk(1000);
        std::vector<std::uint64_t> dv(1000);
        while (gone.size() < 3000 && !cur.done()) {
            std::size_t n = m.lookup_and_delete_batch(cur, dk, dv);
            for (std::size_t i = 0; i < n; i++)
                bad += dv[i] != batch_val(dk[i]), gone.insert(dk[i]);
        }
        CHECK(gone.size() >= 3000 && gone.size() < N);
        std::vector<std::uint32_t> rest;
        for (std::uint32_t k : keys) {
            bool there = m.get<std::uint32_t, std::uint64_t>(k).has_value();
            bad += there == (gone.count(k) != 0);
            if (!gone.count(k))
                rest.push_back(k);
        }
        CHECK_EQ(bad, 0);
        CHECK_EQ(m.keys<std::uint32_t>().size(), rest.size());
        CHECK_EQ(m.delete_batch(rest), rest.size());
        CHECK(m.keys<std::uint32_t>().empty());
    }
    {  // Per-CPU: packed bytes, 4-byte values in 8-byte slots per possible CPU.
        auto m = obj.map("percpu_hash");
        std::size_t vs = m.value_buf_size(), cpus = vs / 8;
        std::vector<unsigned char> vb(N * vs);
        for (std::uint32_t k = 0; k < N; k++)
            for (std::size_t c = 0; c < cpus; c++) {
                std::uint32_t x = k * 16 + static_cast<std::uint32_t>(c);
                std::memcpy(&vb[k * vs + c * 8], &x, 4);
            }
        try {
            m.update_batch(keys.data(), N * 4, vb.data(), N * 4, N);
            CHECK(!"short per-CPU values accepted");
        } catch (const bpfl::BatchError& e) {
            CHECK_EQ(e.code(), EINVAL);
            CHECK_EQ(e.done(), std::size_t{0});
            CHECK(std::string(e.what()).find("per-CPU") != std::string::npos);
        }
        CHECK_EQ(m.update_batch(keys.data(), N * 4, vb.data(), vb.size(), N), std::size_t{N});
        int bad = 0;
        for (std::uint32_t k = 0; k < N; k++) {
            auto per = m.get_percpu<std::uint32_t, std::uint32_t>(k);
            if (!per || per->size() != cpus) {
                bad++;
                continue;
            }
            for (std::size_t c = 0; c < cpus; c++)
                bad += (*per)[c] != k * 16 + c;
        }
        CHECK_EQ(bad, 0);
        bpfl::BatchCursor cur;
        std::vector<unsigned char> ko(500 * 4), vo(500 * vs);
        std::size_t total = 0;
        while (!cur.done())
            total += m.lookup_and_delete_batch(cur, ko.data(), ko.size(), vo.data(), vo.size(), 500);
        CHECK_EQ(total, std::size_t{N});
        CHECK(m.keys<std::uint32_t>().empty());
    }
    {  // Partial failure: 5 of 10 new keys fit in the full map; a delete stops at a missing key.
        auto m = obj.map("hash");
        std::vector<std::uint32_t> fk(11995);
        for (std::uint32_t i = 0; i < fk.size(); i++)
            fk[i] = i;
        CHECK_EQ(m.update_batch(fk, std::vector<std::uint64_t>(fk.size())), fk.size());
        std::vector<std::uint32_t> nk{20000, 20001, 20002, 20003, 20004, 20005, 20006, 20007, 20008, 20009};
        try {
            m.update_batch(nk, std::vector<std::uint64_t>(10));
            CHECK(!"no error on a full map");
        } catch (const bpfl::BatchError& e) {
            CHECK_EQ(e.code(), E2BIG);
            CHECK_EQ(e.done(), std::size_t{5});
        }
        try {
            m.delete_batch(std::vector<std::uint32_t>{20000, 20001, 99999, 20002});
            CHECK(!"no error on a missing key");
        } catch (const bpfl::BatchError& e) {
            CHECK_EQ(e.code(), ENOENT);
            CHECK_EQ(e.done(), std::size_t{2});
        }
        CHECK_EQ(m.keys<std::uint32_t>().size(), std::size_t{11998});
        std::string w = CHECK_THROWS(m.update_batch(std::vector<std::uint32_t>{30000}, std::vector<std::uint64_t>{1},
                                                    bpfl::BatchOptions{BPFL_NOEXIST, 0}),
                                     EINVAL);
        CHECK(w.find("only BPF_F_LOCK") != std::string::npos);
        CHECK_EQ(m.batch_cursor_size(), std::size_t{4});
        CHECK_THROWS(m.update_batch(std::vector<std::uint64_t>{1}, std::vector<std::uint64_t>{1}), EINVAL);
        bpfl::BatchCursor c;
        std::uint32_t k4 = 0, v4 = 0;
        w = CHECK_THROWS(obj.map("progs").lookup_batch(c, &k4, 4, &v4, 4, 1), EOPNOTSUPP);
        CHECK(w.find("BPF_MAP_TYPE_PROG_ARRAY") != std::string::npos);
    }
}

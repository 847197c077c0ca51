/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// Output memory of the streams: blocks of one size, mapped outside malloc's
// heap (no nginx types).
//
// Why not strings: encoded output grew strings of every size up to a few
// hundred KiB, and glibc, after freeing the large ones, raised its mmap
// threshold and kept later ones in its heap. A worker's idle RSS then
// depended on heap fragmentation, moving ±20 % between two quiet moments.
// Blocks of one size, mapped and unmapped whole, make what a worker holds
// what it streams now plus a bounded cache.
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>
#include <vector>

namespace cligw {

class BlockPool {
public:
    // Blocks of block_size bytes; keeps at most max_kept returned blocks
    // for reuse and unmaps the rest.
    BlockPool(std::size_t block_size, std::size_t max_kept);
    ~BlockPool();

    BlockPool(const BlockPool &) = delete;
    BlockPool &operator=(const BlockPool &) = delete;

    // A block, resident; throws std::bad_alloc.
    char *take();
    void give(char *block) noexcept;

    std::size_t block_size() const { return block_size_; }
    // Blocks taken and not given back (0 once every stream is gone).
    std::size_t outstanding() const { return outstanding_; }

private:
    friend struct BlockPoolProbe;   // the unit tests look at kept_

    std::vector<char *> kept_;      // reserved: give() never allocates
    std::size_t         block_size_;
    std::size_t         max_kept_;
    std::size_t         outstanding_ = 0;
};


// A piece of output, in a block of the pool: data[0, size).
struct Chunk {
    char        *data;
    std::size_t  size;
};


// Bytes appended in order over blocks of a pool. Taken chunks belong to
// the caller, who gives their blocks back; the rest go back with the writer.
class BlockWriter {
public:
    explicit BlockWriter(BlockPool &pool) noexcept : pool_(pool) {}
    ~BlockWriter();

    BlockWriter(const BlockWriter &) = delete;
    BlockWriter &operator=(const BlockWriter &) = delete;

    // Throws std::bad_alloc; what was appended before stays.
    void append(const char *p, std::size_t n)
    {
        if (n <= static_cast<std::size_t>(end_ - pos_)) {
            std::memcpy(pos_, p, n);
            pos_ += n;
            return;
        }
        append_slow(p, n);
    }

    void append(std::string_view s) { append(s.data(), s.size()); }

    // n <= 32, and p has 32 readable bytes: a copy of fixed size, which
    // the compiler inlines (an id line per event would call memcpy).
    void append_small(const char *p, std::size_t n)
    {
        if (end_ - pos_ >= 32) {
            std::memcpy(pos_, p, 32);
            pos_ += n;
            return;
        }
        append_slow(p, n);
    }

    // Bytes appended and not taken.
    std::size_t size() const
    {
        return full_bytes_ + static_cast<std::size_t>(pos_ - block_);
    }

    bool empty() const { return size() == 0; }

    // The oldest chunk not taken, the partly filled block last; {} if empty.
    Chunk take_front() noexcept;

    // f(const char *, std::size_t) over the last n bytes appended, in
    // order; n <= size().
    template <class F> void visit_tail(std::size_t n, F &&f) const;

private:
    void append_slow(const char *p, std::size_t n);

    BlockPool          &pool_;
    std::vector<Chunk>  full_;       // filled blocks, oldest first
    std::size_t         taken_ = 0;  // of full_, handed out already
    std::size_t         full_bytes_ = 0;
    char               *block_ = nullptr;
    char               *pos_ = nullptr;
    char               *end_ = nullptr;
};

template <class F>
void BlockWriter::visit_tail(std::size_t n, F &&f) const
{
    std::size_t in_block = static_cast<std::size_t>(pos_ - block_);
    std::size_t from_full = n > in_block ? n - in_block : 0;
    std::size_t i = full_.size();

    // back to the chunk where the tail starts, then forward
    std::size_t skip = 0;
    while (from_full > 0 && i > taken_) {
        i--;
        if (full_[i].size >= from_full) {
            skip = full_[i].size - from_full;
            from_full = 0;
            break;
        }
        from_full -= full_[i].size;
    }

    if (n > in_block) {
        for (; i < full_.size(); i++) {
            f(full_[i].data + skip, full_[i].size - skip);
            skip = 0;
        }
    }

    std::size_t k = n < in_block ? n : in_block;
    if (k) {
        f(pos_ - k, k);
    }
}

} // namespace cligw

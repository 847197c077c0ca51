/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// BlockPool and BlockWriter: the parts that are not inline.

#include "cligw/blocks.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <new>

namespace cligw {

BlockPool::BlockPool(std::size_t block_size, std::size_t max_kept)
    : block_size_(block_size ? block_size : 1), max_kept_(max_kept)
{
    kept_.reserve(max_kept);
}


BlockPool::~BlockPool()
{
    for (char *block : kept_) {
        ::munmap(block, block_size_);
    }
}


char *BlockPool::take()
{
    char *block;

    if (!kept_.empty()) {
        block = kept_.back();
        kept_.pop_back();

    } else {
        // populated now: a kept block costs the same whatever it held
        void *p = ::mmap(nullptr, block_size_, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (p == MAP_FAILED) {
            throw std::bad_alloc();
        }
        block = static_cast<char *>(p);
    }

    outstanding_++;
    return block;
}


void BlockPool::give(char *block) noexcept
{
    outstanding_--;

    if (kept_.size() < max_kept_) {
        kept_.push_back(block);
    } else {
        ::munmap(block, block_size_);
    }
}


BlockWriter::~BlockWriter()
{
    for (std::size_t i = taken_; i < full_.size(); i++) {
        pool_.give(full_[i].data);
    }

    if (block_) {
        pool_.give(block_);
    }
}


void BlockWriter::append_slow(const char *p, std::size_t n)
{
    while (n > 0) {
        std::size_t room = static_cast<std::size_t>(end_ - pos_);

        if (room == 0) {
            if (full_.size() == full_.capacity()) { // may throw: no change
                full_.reserve(std::max<std::size_t>(8, 2 * full_.capacity()));
            }

            char *next = pool_.take();          // the same

            if (block_) {
                std::size_t used = static_cast<std::size_t>(pos_ - block_);
                full_.push_back({ block_, used });
                full_bytes_ += used;
            }

            block_ = pos_ = next;
            end_ = next + pool_.block_size();
            continue;
        }

        std::size_t k = std::min(room, n);
        std::memcpy(pos_, p, k);
        pos_ += k;
        p += k;
        n -= k;
    }
}


Chunk BlockWriter::take_front() noexcept
{
    if (taken_ < full_.size()) {
        Chunk c = full_[taken_++];
        full_bytes_ -= c.size;

        if (taken_ == full_.size()) {
            full_.clear();
            taken_ = 0;
        }

        return c;
    }

    if (block_ == nullptr || pos_ == block_) {
        return { nullptr, 0 };
    }

    Chunk c = { block_, static_cast<std::size_t>(pos_ - block_) };
    block_ = pos_ = end_ = nullptr;

    return c;
}

} // namespace cligw

// SPDX-License-Identifier: Apache-2.0
// What the dynamic linker sees of a built module: the symbols it exports and the libraries it
// needs (what `nm -D --defined-only` and `readelf -d` print), read from the ELF file itself.
#pragma once

#include <elf.h>
#include <link.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace latchkey::test_support {

/// The dynamic symbol table and DT_NEEDED list of an ELF file, read from disk the way the
/// dynamic linker sees them (what `nm -D --defined-only` and `readelf -d` print).
struct DynamicInfo {
    std::set<std::string> defined;
    std::vector<std::string> needed;
};

inline DynamicInfo read_dynamic(const std::string& path)
{
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    std::vector<char> bytes(static_cast<std::size_t>(std::max<std::streamoff>(in.tellg(), 0)));
    in.seekg(0);
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    DynamicInfo info;
    if (bytes.size() < sizeof(ElfW(Ehdr))) {
        ADD_FAILURE() << path << " is not an ELF file";
        return info;
    }
    ElfW(Ehdr) eh{};
    std::memcpy(&eh, bytes.data(), sizeof eh);
    if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_shentsize != sizeof(ElfW(Shdr)) ||
        eh.e_shoff + std::size_t{eh.e_shnum} * sizeof(ElfW(Shdr)) > bytes.size()) {
        ADD_FAILURE() << path << " is not an ELF file of this machine's class";
        return info;
    }
    std::vector<ElfW(Shdr)> sections(eh.e_shnum);
    std::memcpy(sections.data(), bytes.data() + eh.e_shoff, sections.size() * sizeof(ElfW(Shdr)));
    const auto string_at = [&](const ElfW(Shdr)& strtab, std::size_t offset) {
        const std::size_t at = strtab.sh_offset + offset;
        if (offset >= strtab.sh_size || at >= bytes.size())
            return std::string();
        return std::string(bytes.data() + at, strnlen(bytes.data() + at, bytes.size() - at));
    };
    for (const auto& s : sections) {
        if (s.sh_offset + s.sh_size > bytes.size() || s.sh_link >= sections.size())
            continue;
        const ElfW(Shdr)& strtab = sections[s.sh_link];
        if (s.sh_type == SHT_DYNSYM) {
            for (std::size_t i = 1; i < s.sh_size / sizeof(ElfW(Sym)); ++i) {
                ElfW(Sym) sym{};
                std::memcpy(&sym, bytes.data() + s.sh_offset + i * sizeof sym, sizeof sym);
                const auto bind = ELF64_ST_BIND(sym.st_info);
                if (sym.st_shndx != SHN_UNDEF && (bind == STB_GLOBAL || bind == STB_WEAK))
                    info.defined.insert(string_at(strtab, sym.st_name));
            }
        } else if (s.sh_type == SHT_DYNAMIC) {
            for (std::size_t i = 0; i < s.sh_size / sizeof(ElfW(Dyn)); ++i) {
                ElfW(Dyn) dyn{};
                std::memcpy(&dyn, bytes.data() + s.sh_offset + i * sizeof dyn, sizeof dyn);
                if (dyn.d_tag == DT_NEEDED)
                    info.needed.push_back(string_at(strtab, dyn.d_un.d_val));
            }
        }
    }
    return info;
}

} // namespace latchkey::test_support

#!/usr/bin/env bash
# The .NET install path (README "Install"): builds the NuGet packages
#   target/nuget/Xnano.<version>.nupkg      lib/netstandard2.0/Xnano.dll (+ .xml docs,
#                                           + Xnano.dll.config: Mono's dllmap),
#                                           runtimes/linux-x64/native/libxnano.so
#   target/nuget/Xnano.Sim.<version>.nupkg  the simulator: Xnano.Sim.dll and libxnano_sim.so
# by writing the .nuspec, [Content_Types].xml and _rels/.rels and zipping them (what
# `nuget pack` produces; no NuGet client needed). The assemblies are compiled with Mono's mcs
# from bindings/csharp, the native libraries are the release builds installed by
# scripts/install-c.sh (pass its prefix; default target/c-install/prefix).
# Then checks each package's file list and, unless --no-test, runs the NUnit suite
# (scripts/test-csharp.sh) against the assemblies and native libraries unpacked from the
# packages, not the build tree.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
run_tests=1
if [ "${1:-}" = --no-test ]; then run_tests=0; shift; fi
prefix="${1:-$repo/target/c-install/prefix}"
for lib in libxnano.so libxnano_sim.so; do
  [ -f "$prefix/lib/$lib" ] || { echo "pack-nuget: $prefix/lib/$lib missing: run scripts/install-c.sh" >&2; exit 1; }
done
version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' bindings/csharp/Xnano.csproj)"
crate_version="$(sed -n 's/^#define XNANO_VERSION_STRING "\(.*\)"/\1/p' include/xnano.h)"
[ "$version" = "$crate_version" ] || { echo "pack-nuget: Xnano.csproj <Version> $version, crate $crate_version" >&2; exit 1; }
repo_url="$(sed -n 's/^repository = "\(.*\)"/\1/p' Cargo.toml)"

out="$repo/target/nuget"
rm -rf "$out"
mkdir -p "$out/build"
src=bindings/csharp
mcs_() { mcs -nologo -langversion:7.2 -warnaserror -optimize+ "$@"; }
mcs_ -target:library -out:"$out/build/Xnano.dll" -doc:"$out/build/Xnano.xml" $(find "$src/src" -name '*.cs' | sort)
mcs_ -target:library -r:"$out/build/Xnano.dll" -out:"$out/build/Xnano.Sim.dll" -doc:"$out/build/Xnano.Sim.xml" \
  $(find "$src/sim/src" -name '*.cs' | sort)

# pack ID DLL NATIVE-LIB-PATH NATIVE-NAME DLLMAP-CONFIG DESCRIPTION DEPENDENCY-XML
pack() {
  local id="$1" dll="$2" native="$3" native_name="$4" config="$5" description="$6" deps="$7"
  local dir="$out/stage/$id" lower="$id"
  mkdir -p "$dir/lib/netstandard2.0" "$dir/runtimes/linux-x64/native" "$dir/_rels"
  cp "$out/build/$dll.dll" "$out/build/$dll.xml" "$dir/lib/netstandard2.0/"
  cp "$native" "$dir/runtimes/linux-x64/native/$native_name.so"
  # The release profile keeps line tables (debug = 1) for backtraces in our own runs; an
  # app ships the library stripped, as the wheel does (auditwheel --strip). The dynamic
  # symbol table (the C ABI) stays.
  strip --strip-unneeded "$dir/runtimes/linux-x64/native/$native_name.so"
  if readelf -S "$dir/runtimes/linux-x64/native/$native_name.so" | grep -q '\.debug_'; then
    echo "pack-nuget: $native_name.so still has debug sections after strip" >&2; exit 1
  fi
  # Mono's dllmap (bindings/csharp/Xnano.dll.config, sim/Xnano.Sim.dll.config): .dll.config
  # files travel with their assembly (MSBuild copies them as reference-related files).
  cp "$config" "$dir/lib/netstandard2.0/$dll.dll.config"
  cat >"$dir/$lower.nuspec" <<XML
<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata>
    <id>$id</id>
    <version>$version</version>
    <authors>xnano contributors</authors>
    <description>$description</description>
    <license type="expression">MIT</license>
    <projectUrl>$repo_url</projectUrl>
    <repository type="git" url="$repo_url" />
    <tags>xbox gamestreaming smartglass nano</tags>
    <dependencies>
      <group targetFramework=".NETStandard2.0">$deps</group>
    </dependencies>
  </metadata>
</package>
XML
  cat >"$dir/[Content_Types].xml" <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
  <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml" />
  <Default Extension="nuspec" ContentType="application/octet" />
  <Default Extension="dll" ContentType="application/octet" />
  <Default Extension="xml" ContentType="application/octet" />
  <Default Extension="config" ContentType="application/octet" />
  <Default Extension="so" ContentType="application/octet" />
</Types>
XML
  cat >"$dir/_rels/.rels" <<XML
<?xml version="1.0" encoding="utf-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
  <Relationship Type="http://schemas.microsoft.com/packaging/2010/07/manifest" Target="/$lower.nuspec" Id="R0" />
</Relationships>
XML
  local nupkg="$out/$id.$version.nupkg"
  (cd "$dir" && zip -q -X -D -r "$nupkg" "$lower.nuspec" "[Content_Types].xml" _rels lib runtimes)
  echo "built $nupkg:"
  unzip -l "$nupkg"
  local want got
  want="$(printf '%s\n' "$lower.nuspec" "[Content_Types].xml" _rels/.rels \
    "lib/netstandard2.0/$dll.dll" "lib/netstandard2.0/$dll.dll.config" "lib/netstandard2.0/$dll.xml" \
    "runtimes/linux-x64/native/$native_name.so" | sort)"
  got="$(unzip -Z1 "$nupkg" | sort)"
  if [ "$want" != "$got" ]; then
    echo "pack-nuget: $id: unexpected file list:" >&2
    diff <(echo "$want") <(echo "$got") >&2 || true
    exit 1
  fi
  # The native library inside is the installed one, stripped: the same SONAME and the same
  # exported symbols.
  local inside="$out/stage/$native_name.check.so"
  unzip -p "$nupkg" "runtimes/linux-x64/native/$native_name.so" >"$inside"
  soname() { readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p'; }
  exports() { nm -D --defined-only "$1" | awk '{print $NF}' | sort; }
  [ "$(soname "$inside")" = "$(soname "$native")" ] && [ -n "$(soname "$inside")" ] ||
    { echo "pack-nuget: $native_name.so in the package: SONAME $(soname "$inside")" >&2; exit 1; }
  cmp -s <(exports "$inside") <(exports "$native") ||
    { echo "pack-nuget: $native_name.so in the package exports other symbols than $native" >&2; exit 1; }
  echo "$native_name.so: SONAME $(soname "$inside"), $(exports "$inside" | wc -l) exported symbols," \
    "$(stat -c %s "$inside") bytes stripped ($(stat -L -c %s "$native") installed)"
  rm -f "$inside"
}
pack Xnano Xnano "$prefix/lib/libxnano.so" libxnano "$src/Xnano.dll.config" \
  "Xbox One SmartGlass + Nano gamestreaming client: the C# binding of libxnano, with libxnano for linux-x64" ""
pack Xnano.Sim Xnano.Sim "$prefix/lib/libxnano_sim.so" libxnano_sim "$src/sim/Xnano.Sim.dll.config" \
  "The simulated Xbox One console of xnano (C# binding of libxnano_sim, with libxnano_sim for linux-x64): for tests and demos" \
  "<dependency id=\"Xnano\" version=\"[$version]\" />"

# Unpacked as a consumer gets them; scripts/test-csharp.sh takes Xnano.dll, Xnano.Sim.dll,
# their .config files and both native libraries from there.
for id in Xnano Xnano.Sim; do
  mkdir -p "$out/unpacked/$id"
  unzip -q "$out/$id.$version.nupkg" -d "$out/unpacked/$id"
done
# An application's output directory as the packages make it (lib/ flat, runtimes/ kept):
# Mono finds libxnano through Xnano.dll.config alone, with nothing on LD_LIBRARY_PATH.
app="$out/app"
mkdir -p "$app"
for id in Xnano Xnano.Sim; do
  cp "$out/unpacked/$id/lib/netstandard2.0/"* "$app/"
  cp -r "$out/unpacked/$id/runtimes" "$app/"
done
cat >"$out/build/Hello.cs" <<'CS'
public static class Hello
{
    public static int Main()
    {
        Xnano.Library.CheckAbi();
        System.Console.WriteLine("xnano " + Xnano.Library.Version + " from the package, through Xnano.dll.config");
        return 0;
    }
}
CS
mcs -nologo -r:"$app/Xnano.dll" -out:"$app/Hello.exe" "$out/build/Hello.cs"
(cd / && env -u LD_LIBRARY_PATH mono "$app/Hello.exe")
# ... and only through it: without the .config the same program finds no libxnano.
mv "$app/Xnano.dll.config" "$app/Xnano.dll.config.off"
if (cd / && env -u LD_LIBRARY_PATH mono "$app/Hello.exe") >"$out/no-config.log" 2>&1; then
  echo "pack-nuget: Hello.exe ran without Xnano.dll.config: the dllmap is not what finds libxnano" >&2
  exit 1
fi
mv "$app/Xnano.dll.config.off" "$app/Xnano.dll.config"
echo "without Xnano.dll.config: $(grep -o 'DllNotFoundException[^:]*' "$out/no-config.log" | head -n 1 || true) (as it should)"
echo "pack-nuget: packages in $out"
if [ "$run_tests" = 1 ]; then
  XNANO_CSHARP_PACKAGES="$out/unpacked" bash scripts/test-csharp.sh
fi

#!/usr/bin/env bash
# Installs the Debian 12 packages eisim needs, only those missing. As root it runs apt-get;
# otherwise it prints the exact apt-get line and stops.
set -euo pipefail
packages=(g++ make cmake git libboost-dev libeigen3-dev libhdf5-dev libtoml11-dev libcli11-dev nlohmann-json3-dev catch2
          python3 python3-numpy python3-h5py python3-matplotlib python3-bmtk
          python3-brian python3-scipy python3-sklearn libopenmpi-dev openmpi-bin
          pybind11-dev python3-pybind11 python3-venv python3-pip python3-setuptools python3-wheel
          python3-pytest python3-nbconvert python3-ipykernel)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
line="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "eisim needs these Debian packages: ${missing[*]}" >&2
  echo "run as root:  $line" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

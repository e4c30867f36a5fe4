# shellcheck shell=bash
# Helpers of llmos' post-image scripts (sourced; needs bash).  Buildroot runs a
# post-image script with BINARIES_DIR as $1 and exports HOST_DIR, BUILD_DIR
# and BINARIES_DIR.
#
# The layout is the offline build's (mkimage/image.py), read through
# support/offline.py: rootfs.squashfs (Buildroot's squashfs root),
# model.squashfs (package llmos-model) and data.ext4 (made here).

LLMOS_EXTERNAL="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LLMOS_OFFLINE=("${HOST_DIR:?HOST_DIR is not set (run from Buildroot)}/bin/python3"
               "${LLMOS_EXTERNAL}/support/offline.py")

# remake_rootfs: BINARIES_DIR/rootfs.squashfs made again from TARGET_DIR with the
# offline build's options (uncompressed: mkimage/shared.toml says why; Buildroot's own
# squashfs choices all compress), owned by root like Buildroot's.
remake_rootfs() {
	local opts
	opts="$("${LLMOS_OFFLINE[@]}" rootfs-squashfs-args)"
	[ -n "${opts}" ] || { echo "llmos: no rootfs mksquashfs options" >&2; return 1; }
	# shellcheck disable=SC2086 # the options are words
	"${HOST_DIR:?}/bin/mksquashfs" "${TARGET_DIR:?TARGET_DIR is not set (run from Buildroot)}" \
		"${BINARIES_DIR:?}/rootfs.squashfs.tmp" ${opts}
	mv -f "${BINARIES_DIR}/rootfs.squashfs.tmp" "${BINARIES_DIR}/rootfs.squashfs"
}

# run_genimage CONFIG ROOTPATH: genimage with Buildroot's usual directories.
run_genimage() {
	local tmp="${BUILD_DIR:?}/genimage.tmp"
	rm -rf "${tmp}"
	genimage \
		--rootpath "$2" \
		--tmppath "${tmp}" \
		--inputpath "${BINARIES_DIR:?}" \
		--outputpath "${BINARIES_DIR}" \
		--config "$1"
}

# make_data_image: BINARIES_DIR/data.ext4, the writable data partition. Like
# the offline build it is created only when missing and never overwritten:
# it holds the user's files.
make_data_image() {
	local dirs root d
	if [ -e "${BINARIES_DIR:?}/data.ext4" ]; then
		echo "llmos: keeping the existing ${BINARIES_DIR}/data.ext4"
		return 0
	fi
	dirs="$("${LLMOS_OFFLINE[@]}" data-dirs)"
	[ -n "${dirs}" ] || { echo "llmos: no data directories" >&2; return 1; }
	root="$(mktemp -d)"
	for d in ${dirs}; do
		mkdir -p "${root}/data/${d}"
	done
	if ! run_genimage "${LLMOS_EXTERNAL}/board/common/genimage-data.cfg" "${root}"; then
		rm -rf "${root}"
		return 1
	fi
	rm -rf "${root}"
}

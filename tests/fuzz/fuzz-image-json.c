/*
 * fuzz-image-json.c - libFuzzer target for the JSON documents of an image
 * (common/image-config.c): index.json and image indexes, manifests, configs and
 * docker save's manifest.json.  They come from strangers, so no input may
 * crash them, leak, or read out of bounds (AddressSanitizer watches).
 *
 *   make -C tests/fuzz run FUZZ_SECONDS=10
 *
 * See https://llvm.org/docs/LibFuzzer.html.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "image-config.h"
#include "minidock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct img_desc *descs, config;
	struct img_docker_entry *ents;
	struct img_config cfg;
	size_t n;

	if (img_parse_index(buf, size, &descs, &n) == 0)
		img_descs_free(descs, n);
	if (img_parse_manifest(buf, size, &config, &descs, &n) == 0) {
		img_desc_free(&config);
		img_descs_free(descs, n);
	}
	if (img_parse_config(buf, size, &cfg) == 0) {
		json_decref(img_runtime_config(&cfg));
		img_config_free(&cfg);
	}
	if (img_parse_docker_manifest(buf, size, &ents, &n) == 0)
		img_docker_entries_free(ents, n);
	(void)img_json_is_index(buf, size);
	return 0;
}

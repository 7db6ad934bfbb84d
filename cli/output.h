/* SPDX-License-Identifier: Apache-2.0 */
/*
 * output - renders broker reply bodies (JSON) as text, JSON or YAML.
 *
 * Pure: builds a string, never prints. The text form follows polycubectl:
 * "key: value" lines, nested objects indented by two spaces, lists of flat
 * objects as aligned tables.
 */
#ifndef CUBEBUS_OUTPUT_H
#define CUBEBUS_OUTPUT_H

#include "cliparse.h"

/*
 * Renders a reply body (JSON text) for humans/machines into a malloc'd
 * string (*out, ends with a newline unless empty). Returns 0, -EINVAL if
 * body is not JSON (or format is unknown), -ENOMEM. Empty body -> empty
 * string. hide is a comma list of keys or dotted paths ("ports.uuid") to
 * drop first; a path crosses arrays element by element. brief keeps only
 * the top-level scalars (of the object, or of each object of an array).
 */
int output_render(const char *body, enum cli_format format, int brief, const char *hide, char **out);

#endif

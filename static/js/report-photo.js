/*
 * gridmap — a 随手拍 photo before it is sent: a phone's camera picture (often 4–12 MB) is
 * redrawn at most MAX_SIDE pixels on its longer side as a JPEG, which also leaves its EXIF
 * data behind (the place and time it was taken, the phone's make). Anything that fails keeps
 * the original file: the server checks type and size either way.
 */
const MAX_SIDE = 1920;
const QUALITY = 0.85;
const SMALL_ENOUGH = 300 * 1024; // a PNG screenshot or small JPEG stays as it is

function blobOf(canvas) {
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", QUALITY));
}

export async function shrinkPhoto(file) {
  if (!file || !["image/jpeg", "image/png"].includes(file.type) || file.size <= SMALL_ENOUGH) {
    return file;
  }
  try {
    // Browsers turn the picture upright from its EXIF orientation here.
    const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    const blob = await blobOf(canvas);
    if (!blob || blob.size >= file.size) return file;
    const name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
    return new File([blob], name, { type: "image/jpeg", lastModified: Date.now() });
  } catch (err) {
    return file;
  }
}

// Put ``file`` in place of what the input holds (the form then sends it).
export function replaceFile(input, file) {
  const list = new DataTransfer();
  list.items.add(file);
  input.files = list.files;
}

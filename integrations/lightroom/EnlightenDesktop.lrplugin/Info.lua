--[[ Enlighten Desktop for Lightroom Classic: an export post-process action ("Enlighten Desktop") that
brightens each exported photo in place with `enlighten-desktop edit FILE --apply --strength S`.

Add it in File > Plug-in Manager > Add (this folder), then in the Export dialog select
"Enlighten Desktop" under Post-Process Actions and press Insert. The README's "Use from your photo editor"
has the "Edit In" set-up, which needs no plug-in.
]]

return {
  LrSdkVersion = 6.0,
  LrSdkMinimumVersion = 6.0,
  LrToolkitIdentifier = "org.enlighten-desktop.lightroom",
  LrPluginName = "Enlighten Desktop",
  LrExportFilterProvider = {
    title = "Enlighten Desktop",
    file = "EnlightenFilterProvider.lua",
    id = "enlighten",
  },
  VERSION = { major = 0, minor = 1, revision = 0 },
}

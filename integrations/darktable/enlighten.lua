--[[
  enlighten.lua - brighten low-light photos with Enlighten Desktop from darktable

  Adds an export target "Enlighten Desktop". darktable develops each selected image and exports it (choose
  TIFF, 16 bit, in the export module); the script then runs `enlighten-desktop edit` on that exported copy,
  moves the result beside the original, imports it and groups it with the original, copying its tags and
  rating. The original (raw or not) and its edit history are never touched.

  Modes (in the export target's options):
    * apply:  `enlighten-desktop edit FILE --apply --strength S`, no window (batch friendly)
    * review: `enlighten-desktop edit FILE` opens the review window; Save imports the result,
              Cancel discards the copy

  INSTALL
    * copy this file to the lua/contrib folder of your darktable configuration
      (Linux/macOS: ~/.config/darktable/lua/contrib/, Windows: %LOCALAPPDATA%\darktable\lua\contrib\)
      with the darktable lua-scripts installed (it uses their lib/dtutils libraries)
    * start it from the script manager, or add `require "contrib/enlighten"` to luarc
    * if enlighten-desktop is not on your PATH, set its location in preferences > lua options

  Exit status of `enlighten-desktop edit` (the project's README, "Use from your photo editor"): 0 saved,
  1 failed, 3 closed without saving.
]]

local dt = require "darktable"
local du = require "lib/dtutils"
local df = require "lib/dtutils.file"
local dtsys = require "lib/dtutils.system"

local MODULE = "enlighten_desktop"
du.check_min_api_version("7.0.0", MODULE)

local gettext = dt.gettext
local function _(msgid)
  return gettext.dgettext(MODULE, msgid)
end

local PS = dt.configuration.running_os == "windows" and "\\" or "/"
local SAVED, NOT_SAVED = 0, 3
local SUFFIX = "_enlightened"
local MODES = {"apply", "review"}

local script_data = {}
script_data.metadata = {
  name = "enlighten",
  purpose = _("brighten low-light photos with Enlighten Desktop"),
  author = "Enlighten Desktop",
}

dt.preferences.register(MODULE, "executable", "file", _("Enlighten Desktop executable"),
  _("enlighten-desktop (or enlighten-desktop.exe); leave as is when it is on your PATH"), "enlighten-desktop")

local function executable()
  local path = dt.preferences.read(MODULE, "executable", "file")
  if path == nil or path == "" then
    return "enlighten-desktop"
  end
  return path
end

-- "0.80" whatever the locale: string.format("%.2f") would write "0,80" under a German LC_NUMERIC,
-- which the command line would refuse.
local function strength_argument(percent)
  percent = math.max(0, math.min(100, math.floor(percent + 0.5)))
  return string.format("%d.%02d", percent // 100, percent % 100)
end

local function edit_command(file, mode, percent)
  local command = df.sanitize_filename(executable()) .. " edit " .. df.sanitize_filename(file)
  if mode == "apply" then
    command = command .. " --apply --strength " .. strength_argument(percent)
  end
  return command
end

-- darktable.control.execute returns what C's system() returns: on Linux and macOS the wait status,
-- whose exit code is the high byte; on Windows the exit code itself.
local function exit_code(status)
  if dt.configuration.running_os ~= "windows" and status >= 256 then
    return status // 256
  end
  return status
end

local function copy_tags_and_rating(from, to)
  for _, tag in ipairs(dt.tags.get_tags(from)) do
    if string.sub(tag.name, 1, 9) ~= "darktable" then
      dt.tags.attach(tag, to)
    end
  end
  to.rating = from.rating
end

-- The result's final name: beside the original, never the original itself nor an existing file.
local function result_path(image, exported)
  local name = df.get_basename(exported) .. SUFFIX .. "." .. df.get_filetype(exported)
  return df.create_unique_filename(image.path .. PS .. name)
end

local mode_choice = dt.new_widget("combobox") {
  label = _("mode"),
  tooltip = _("apply: no window; review: compare, paint attention, then Save or Cancel per photo"),
  selected = dt.preferences.read(MODULE, "mode", "integer") == 2 and 2 or 1,
  table.unpack(MODES),
}

local strength_slider = dt.new_widget("slider") {
  label = _("strength"),
  tooltip = _("0 = original, 100 = full effect (apply mode)"),
  hard_min = 0, hard_max = 100, soft_min = 0, soft_max = 100, step = 5, digits = 0,
  value = dt.preferences.read(MODULE, "strength", "integer") > 0
    and dt.preferences.read(MODULE, "strength", "integer") or 100,
}

local function enlighten_all(storage, image_table, extra_data)
  local mode = MODES[mode_choice.selected] or "apply"
  local percent = strength_slider.value
  dt.preferences.write(MODULE, "mode", "integer", mode_choice.selected)
  dt.preferences.write(MODULE, "strength", "integer", math.floor(percent + 0.5))
  local done, kept, failed = 0, 0, 0
  for image, exported in pairs(image_table) do
    dt.print(string.format(_("Enlighten Desktop: %s"), image.filename))
    local code = exit_code(dtsys.external_command(edit_command(exported, mode, percent)))
    if code == SAVED then
      local target = result_path(image, exported)
      if df.file_move(exported, target) then
        local result = dt.database.import(target)
        result:group_with(image.group_leader)
        copy_tags_and_rating(image, result)
        done = done + 1
      else
        dt.print_error("enlighten: could not move " .. exported .. " to " .. target)
        failed = failed + 1
      end
    else
      os.remove(exported)
      if code == NOT_SAVED then
        kept = kept + 1
      else
        dt.print_error("enlighten: " .. image.filename .. ": enlighten-desktop exited with " .. code)
        failed = failed + 1
      end
    end
  end
  dt.print(string.format(_("Enlighten Desktop: %d imported, %d not saved, %d failed"), done, kept, failed))
end

-- Pixels go through the engine at the export's bit depth: TIFF (16 bit recommended), PNG or JPEG.
local function supported(storage, format)
  local extension = string.lower(format.extension)
  return extension == "tif" or extension == "png" or extension == "jpg"
end

local function destroy()
  dt.destroy_storage(MODULE)
end

dt.register_storage(MODULE, _("Enlighten Desktop"), nil, enlighten_all, supported, nil,
  dt.new_widget("box") {orientation = "vertical", mode_choice, strength_slider})

script_data.destroy = destroy
return script_data

--[[ Export post-process action: after Lightroom renders each photo, run
`enlighten-desktop edit RENDERED_FILE --apply --strength S` on it. The command saves over the rendered file
atomically and keeps its format, bit depth, colour profile and metadata, so the rest of the export
(and Lightroom's "Add to this catalog") sees the enhanced file. The catalog's originals are never touched.

Formats the command cannot rewrite (PSD, DNG, original raw) are rendered as 16-bit TIFF instead.
Exit status of the command: 0 saved, 1 failed, 3 not saved.
]]

local LrTasks = import "LrTasks"
local LrView = import "LrView"

local provider = {}

provider.exportPresetFields = {
  { key = "enlighten_strength", default = 1.0 },
  { key = "enlighten_executable", default = WIN_ENV and "enlighten-desktop.exe"
      or "/Applications/Enlighten Desktop.app/Contents/MacOS/enlighten-desktop" },
}

local REWRITABLE = { JPEG = true, TIFF = true, PNG = true }

-- "0.80" whatever the locale: a decimal comma would be refused by the command line.
function provider.strengthArgument(strength)
  local percent = math.floor(math.max(0, math.min(1, strength)) * 100 + 0.5)
  return string.format("%d.%02d", math.floor(percent / 100), percent % 100)
end

-- Windows file names cannot hold a double quote; macOS runs the line through sh, where only single
-- quotes keep $, ` and \ literal.
local function quoted(text)
  if WIN_ENV then
    return '"' .. text .. '"'
  end
  return "'" .. string.gsub(text, "'", "'\\''") .. "'"
end

function provider.editCommand(executable, path, strength)
  local command = quoted(executable) .. " edit " .. quoted(path) .. " --apply --strength "
    .. provider.strengthArgument(strength)
  if WIN_ENV then
    -- cmd.exe strips the first and last quote of a line that starts with one: wrap the whole line.
    command = '"' .. command .. '"'
  end
  return command
end

-- LrTasks.execute returns what C's system() does: on macOS the wait status (exit code in the high
-- byte), on Windows the exit code.
function provider.exitCode(status)
  if not WIN_ENV and status >= 256 then
    return math.floor(status / 256)
  end
  return status
end

function provider.sectionForFilterInDialog(f, propertyTable)
  local bind = LrView.bind
  return {
    title = "Enlighten Desktop",
    f:row {
      f:static_text { title = "Strength:" },
      f:slider { value = bind "enlighten_strength", min = 0, max = 1, width_in_chars = 20 },
      f:static_text {
        title = bind { key = "enlighten_strength",
                       transform = function(value) return string.format("%d %%", math.floor(value * 100 + 0.5)) end },
        width_in_chars = 5,
      },
    },
    f:row {
      f:static_text { title = "enlighten-desktop command:" },
      f:edit_field { value = bind "enlighten_executable", width_in_chars = 45 },
    },
  }
end

local function renderRewritable(renditionToSatisfy, exportSettings)
  if not REWRITABLE[exportSettings.LR_format] then
    exportSettings.LR_format = "TIFF"
    exportSettings.LR_export_bitDepth = 16
  end
end

function provider.postProcessRenderedPhotos(functionContext, filterContext)
  local settings = filterContext.propertyTable
  for sourceRendition, renditionToSatisfy in filterContext:renditions { filterSettings = renderRewritable } do
    local rendered, pathOrMessage = sourceRendition:waitForRender()
    if not rendered then
      renditionToSatisfy:renditionIsDone(false, pathOrMessage)
    else
      local command = provider.editCommand(settings.enlighten_executable, pathOrMessage,
                                           settings.enlighten_strength)
      local code = provider.exitCode(LrTasks.execute(command))
      if code ~= 0 then
        renditionToSatisfy:renditionIsDone(false, "Enlighten Desktop could not enhance this photo (exit status "
          .. code .. "); check the enlighten-desktop command in the export dialog.")
      end
    end
  end
end

return provider
